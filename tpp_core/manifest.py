"""Canonical manifests and the WebAuthn challenges bound to them (invariant I2).

An approver's authenticator signs ``clientDataJSON``, which carries the challenge; the challenge is
``nonce || sha256(manifest)``. The manifest names everything the decision is about, so a signature
cannot be moved to another request, person, decision or file set, and the server recomputes it from
what it stores at verification time: a file swapped after the notification makes the check fail.

>>> from tpp_core.subjects import Release, ReleaseFile
>>> release = Release(project="acme", version="1.0",
...                   files=(ReleaseFile(filename="acme-1.0.tar.gz", sha256="ab" * 32, size=10),))
>>> data = build_manifest(registry="https://pypi.example", request_id="r1", policy_version=1,
...                       subject=release, approver="ann", verdict=Verdict.APPROVE)
>>> data[:60]
b'{"approver":"ann","decision":"approve","files":[{"name":"acm'
>>> check_challenge(make_challenge(bytes(32), data), data)
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from typing import Any

from .errors import ChallengeMismatch, InvalidInput
from .identifiers import PersonId, RequestId
from .subjects import Release, Subject

__all__ = ["NONCE_SIZE", "Verdict", "build_manifest", "check_challenge", "make_challenge", "manifest_digest"]

#: Bytes of server entropy at the start of a challenge. The digest alone would be predictable, and many
#: authenticators keep their signature counter at zero, so the nonce (single-use, expiring) stops replays.
NONCE_SIZE = 32
_DIGEST_SIZE = 32


class Verdict(enum.Enum):
    """The decision an approver signs; approving and rejecting sign different manifests."""

    APPROVE = "approve"
    REJECT = "reject"


def build_manifest(
    *,
    registry: str,
    request_id: RequestId,
    policy_version: int,
    subject: Subject,
    approver: PersonId,
    verdict: Verdict,
) -> bytes:
    """The canonical bytes an approver signs: sorted keys, no spaces, ASCII, files sorted by name.

    The ``tpp`` field separates the domains of release and policy-change manifests.

    :raises InvalidInput: if ``registry`` is empty.
    """
    if not isinstance(registry, str) or not registry:
        raise InvalidInput("the registry name of a manifest must not be empty")
    body: dict[str, Any] = {
        "registry": registry,
        "request": request_id,
        "policy_version": policy_version,
        "approver": approver,
        "decision": verdict.value,
    }
    if isinstance(subject, Release):
        body["tpp"] = "release-approval-v1"
        body["project"] = subject.project
        body["version"] = subject.version
        body["files"] = [
            {"name": f.filename, "sha256": f.sha256, "size": f.size}
            for f in sorted(subject.files, key=lambda f: f.filename)
        ]
    else:
        body["tpp"] = "policy-change-v1"
        body["policy"] = subject.proposed.to_dict()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def manifest_digest(manifest: bytes) -> bytes:
    """The sha256 of manifest bytes, as it appears at the end of a challenge."""
    return hashlib.sha256(manifest).digest()


def make_challenge(nonce: bytes, manifest: bytes) -> bytes:
    """``nonce || sha256(manifest)``: fresh entropy followed by the binding to the manifest.

    >>> len(make_challenge(bytes(32), b"{}"))
    64

    :raises InvalidInput: if ``nonce`` is not :data:`NONCE_SIZE` bytes.
    """
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
        raise InvalidInput(f"a challenge nonce must be {NONCE_SIZE} bytes")
    return nonce + manifest_digest(manifest)


def check_challenge(challenge: bytes, manifest: bytes) -> None:
    """Check that ``challenge`` was made for exactly ``manifest``.

    >>> check_challenge(make_challenge(bytes(32), b"{}"), b"{ }")
    Traceback (most recent call last):
    ...
    tpp_core.errors.ChallengeMismatch: the challenge was not made for this manifest

    :raises ChallengeMismatch: if the challenge is malformed or bound to other bytes.
    """
    if len(challenge) != NONCE_SIZE + _DIGEST_SIZE:
        raise ChallengeMismatch(f"a challenge must be {NONCE_SIZE + _DIGEST_SIZE} bytes, got {len(challenge)}")
    if not hmac.compare_digest(challenge[NONCE_SIZE:], manifest_digest(manifest)):
        raise ChallengeMismatch("the challenge was not made for this manifest")


def __dir__() -> list[str]:
    return __all__
