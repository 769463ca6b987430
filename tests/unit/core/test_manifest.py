"""Canonical manifests and the challenges bound to them (invariant I2)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tpp_core import manifest as manifest_module
from tpp_core.errors import ChallengeMismatch, InvalidInput
from tpp_core.manifest import NONCE_SIZE, Verdict, build_manifest, check_challenge, make_challenge, manifest_digest
from tpp_core.policy import ApprovalGroup, Policy, Scope
from tpp_core.subjects import PolicyChange, Release, ReleaseFile

SDIST = ReleaseFile(filename="acme-1.0.tar.gz", sha256="ab" * 32, size=10)
WHEEL = ReleaseFile(filename="acme-1.0-py3-none-any.whl", sha256="cd" * 32, size=7)
RELEASE = Release(project="Acme", version="1.0", files=(SDIST, WHEEL))
OWNERS = ApprovalGroup(name="owners", members=frozenset({"ann", "bob"}), exclude_uploader=True)
POLICY = Policy(scope=Scope.project("acme"), version=2, groups=(OWNERS,))
NONCE = bytes(range(NONCE_SIZE))

BASE: dict[str, Any] = {
    "registry": "https://pypi.example",
    "request_id": "r1",
    "policy_version": 3,
    "subject": RELEASE,
    "approver": "ann",
    "verdict": Verdict.APPROVE,
}


def manifest(**changes: Any) -> bytes:
    return build_manifest(**(BASE | changes))


def with_file(old: ReleaseFile, new: ReleaseFile) -> Release:
    return Release(project="acme", version="1.0", files=tuple(new if f is old else f for f in RELEASE.files))


def test_release_manifest_bytes() -> None:
    """The exact bytes: any drift in format would orphan every stored assertion."""
    assert manifest() == (
        b'{"approver":"ann","decision":"approve","files":['
        b'{"name":"acme-1.0-py3-none-any.whl","sha256":"' + b"cd" * 32 + b'","size":7},'
        b'{"name":"acme-1.0.tar.gz","sha256":"' + b"ab" * 32 + b'","size":10}],'
        b'"policy_version":3,"project":"acme","registry":"https://pypi.example","request":"r1",'
        b'"tpp":"release-approval-v1","version":"1.0"}'
    )


def test_policy_change_manifest_bytes() -> None:
    data = manifest(request_id="p1", policy_version=1, subject=PolicyChange(proposed=POLICY), verdict=Verdict.REJECT)
    assert data == (
        b'{"approver":"ann","decision":"reject","policy":{"groups":[{"exclude_uploader":true,"excluded":[],'
        b'"members":["ann","bob"],"name":"owners","seats":1}],"scope":{"kind":"project","value":"acme"},'
        b'"version":2},"policy_version":1,"registry":"https://pypi.example","request":"p1","tpp":"policy-change-v1"}'
    )


def test_manifest_is_ascii() -> None:
    assert b'"registry":"https://b\\u00fccher.example"' in manifest(registry="https://b\u00fccher.example")


@pytest.mark.parametrize(
    ("subject", "domain", "absent"),
    [
        pytest.param(RELEASE, "release-approval-v1", {"policy"}, id="release"),
        pytest.param(PolicyChange(proposed=POLICY), "policy-change-v1", {"files", "project", "version"}, id="policy"),
    ],
)
def test_manifests_are_domain_separated(subject: Release | PolicyChange, domain: str, absent: set[str]) -> None:
    """A signature over a policy change can never be read as one over a release, nor the reverse."""
    fields = json.loads(manifest(subject=subject))
    assert fields["tpp"] == domain
    assert not absent & fields.keys()


# Each changes exactly one thing a decision is about; each must change the signed bytes.
VARIANTS = [
    pytest.param({"registry": "https://other.example"}, id="registry"),
    pytest.param({"request_id": "r2"}, id="request"),
    pytest.param({"policy_version": 4}, id="policy-version"),
    pytest.param({"approver": "bob"}, id="approver"),
    pytest.param({"verdict": Verdict.REJECT}, id="verdict"),
    pytest.param({"subject": dataclasses.replace(RELEASE, project="acme-cli")}, id="project"),
    pytest.param({"subject": dataclasses.replace(RELEASE, version="1.0.post1")}, id="version"),
    pytest.param({"subject": with_file(SDIST, dataclasses.replace(SDIST, filename="acme-1.0.zip"))}, id="file-name"),
    pytest.param({"subject": with_file(SDIST, dataclasses.replace(SDIST, sha256="ab" * 31 + "ac"))}, id="file-sha256"),
    pytest.param({"subject": with_file(WHEEL, dataclasses.replace(WHEEL, size=8))}, id="file-size"),
    pytest.param({"subject": dataclasses.replace(RELEASE, files=(SDIST,))}, id="file-missing"),
    pytest.param(
        {"subject": RELEASE.with_files((ReleaseFile(filename="acme-1.0.zip", sha256="ef" * 32, size=1),))},
        id="file-extra",
    ),
    pytest.param({"subject": PolicyChange(proposed=POLICY)}, id="policy-change"),
]


@pytest.mark.parametrize("changes", VARIANTS)
def test_every_field_changes_the_manifest(changes: dict[str, Any]) -> None:
    assert manifest(**changes) != manifest()


def test_every_policy_field_changes_the_manifest() -> None:
    others = [
        dataclasses.replace(POLICY, version=3),
        dataclasses.replace(POLICY, scope=Scope.project("acme-cli")),
        dataclasses.replace(POLICY, groups=(dataclasses.replace(OWNERS, name="leads"),)),
        dataclasses.replace(POLICY, groups=(dataclasses.replace(OWNERS, exclude_uploader=False),)),
        dataclasses.replace(POLICY, groups=(dataclasses.replace(OWNERS, members=frozenset({"ann", "bob", "cy"})),)),
        dataclasses.replace(POLICY, groups=(dataclasses.replace(OWNERS, seats=2, exclude_uploader=False),)),
    ]
    signed = {manifest(subject=PolicyChange(proposed=p)) for p in [POLICY, *others]}
    assert len(signed) == len(others) + 1


@pytest.mark.parametrize("registry", ["", None, b"https://pypi.example"])
def test_manifest_needs_a_registry(registry: object) -> None:
    with pytest.raises(InvalidInput, match="the registry name of a manifest must not be empty"):
        manifest(registry=registry)


filenames = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+!-]{0,30}", fullmatch=True)
digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
release_files = st.builds(ReleaseFile, filename=filenames, sha256=digests, size=st.integers(0, 2**40))
file_lists = st.lists(release_files, min_size=1, max_size=8, unique_by=lambda f: f.filename)


@pytest.mark.property
@given(files=file_lists, data=st.data())
def test_manifest_does_not_depend_on_file_order(files: list[ReleaseFile], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(files))
    one = manifest(subject=Release(project="acme", version="1.0", files=tuple(files)))
    other = manifest(subject=Release(project="acme", version="1.0", files=tuple(shuffled)))
    assert one == other
    assert [f["name"] for f in json.loads(one)["files"]] == sorted(f.filename for f in files)


def test_challenge_is_nonce_then_manifest_digest() -> None:
    data = manifest()
    challenge = make_challenge(NONCE, data)
    assert challenge == NONCE + hashlib.sha256(data).digest()
    assert manifest_digest(data) == hashlib.sha256(data).digest()
    check_challenge(challenge, data)


@pytest.mark.parametrize(
    "nonce",
    [
        pytest.param(b"", id="empty"),
        pytest.param(bytes(NONCE_SIZE - 1), id="one-short"),
        pytest.param(bytes(NONCE_SIZE + 1), id="one-long"),
        pytest.param("x" * NONCE_SIZE, id="str"),
        pytest.param(bytearray(NONCE_SIZE), id="bytearray"),
        pytest.param(None, id="none"),
    ],
)
def test_make_challenge_refuses_bad_nonces(nonce: object) -> None:
    with pytest.raises(InvalidInput, match="a challenge nonce must be 32 bytes"):
        make_challenge(nonce, manifest())  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [0, 32, 63, 65, 128])
def test_check_challenge_refuses_wrong_lengths(length: int) -> None:
    challenge = (make_challenge(NONCE, manifest()) * 2)[:length]
    with pytest.raises(ChallengeMismatch, match=f"a challenge must be 64 bytes, got {length}$"):
        check_challenge(challenge, manifest())


@pytest.mark.parametrize("position", [NONCE_SIZE, NONCE_SIZE + 15, 2 * NONCE_SIZE - 1])
def test_check_challenge_refuses_a_tampered_digest(position: int) -> None:
    challenge = bytearray(make_challenge(NONCE, manifest()))
    challenge[position] ^= 0x01
    with pytest.raises(ChallengeMismatch, match="the challenge was not made for this manifest"):
        check_challenge(bytes(challenge), manifest())


@pytest.mark.parametrize("changes", VARIANTS)
def test_a_challenge_binds_exactly_one_manifest(changes: dict[str, Any]) -> None:
    """An assertion for one request, person, verdict or file set cannot be moved to another."""
    challenge = make_challenge(NONCE, manifest())
    with pytest.raises(ChallengeMismatch, match="the challenge was not made for this manifest"):
        check_challenge(challenge, manifest(**changes))


@pytest.mark.property
@given(nonce=st.binary(min_size=NONCE_SIZE, max_size=NONCE_SIZE), one=st.binary(), other=st.binary())
def test_challenge_round_trip(nonce: bytes, one: bytes, other: bytes) -> None:
    challenge = make_challenge(nonce, one)
    assert challenge[:NONCE_SIZE] == nonce
    check_challenge(challenge, one)
    if other != one:
        with pytest.raises(ChallengeMismatch, match=re.escape("not made for this manifest")):
            check_challenge(challenge, other)


def test_public_names() -> None:
    assert dir(manifest_module) == [
        "NONCE_SIZE",
        "Verdict",
        "build_manifest",
        "check_challenge",
        "make_challenge",
        "manifest_digest",
    ]
