"""What a request decides on: release files are checked when built, and a release only grows."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from tpp_core import subjects
from tpp_core.errors import InvalidInput
from tpp_core.policy import ApprovalGroup, Policy, Scope
from tpp_core.subjects import PolicyChange, Release, ReleaseFile

SDIST = ReleaseFile(filename="acme-1.0.tar.gz", sha256="ab" * 32, size=10)
WHEEL = ReleaseFile(filename="acme-1.0-py3-none-any.whl", sha256="cd" * 32, size=7)


def release_file(**changes: Any) -> ReleaseFile:
    return ReleaseFile(**({"filename": "acme-1.0.tar.gz", "sha256": "ab" * 32, "size": 10} | changes))


def release(**changes: Any) -> Release:
    return Release(**({"project": "acme", "version": "1.0", "files": (SDIST,)} | changes))


@pytest.mark.parametrize(
    "filename",
    [
        "acme-1.0.tar.gz",
        "acme-1.0-py3-none-any.whl",
        "Acme_Tools-1.0+local.1-1-cp311-cp311-manylinux_2_17_x86_64.whl",
        "acme-1!2.0.zip",
        "a",
        "a" * 255,
    ],
)
def test_release_file_accepts_distribution_names(filename: str) -> None:
    assert release_file(filename=filename).filename == filename


@pytest.mark.parametrize(
    "filename",
    [
        pytest.param("", id="empty"),
        pytest.param("a" * 256, id="too-long"),
        pytest.param("../acme-1.0.tar.gz", id="parent-dir"),
        pytest.param("dist/acme-1.0.tar.gz", id="slash"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("dist\\acme-1.0.tar.gz", id="backslash"),
        pytest.param("C:acme-1.0.tar.gz", id="drive-letter"),
        pytest.param(".acme-1.0.tar.gz", id="hidden"),
        pytest.param("-rf", id="leading-dash"),
        pytest.param("acme 1.0.tar.gz", id="space"),
        pytest.param("acme-1.0.tar.gz\n", id="trailing-newline"),
        pytest.param("acme\r\n1.0.tar.gz", id="crlf"),
        pytest.param("acme\x00.tar.gz", id="nul"),
        pytest.param("acme\x1b[2J.tar.gz", id="escape-sequence"),
        pytest.param("acme-1.0.tar.gz\u202e", id="bidi-override"),
        pytest.param("\u00e1cme-1.0.tar.gz", id="non-ascii"),
        pytest.param("acme%2F1.0.tar.gz", id="percent-escape"),
        pytest.param(None, id="none"),
        pytest.param(b"acme-1.0.tar.gz", id="bytes"),
        pytest.param(1, id="int"),
    ],
)
def test_release_file_refuses_names(filename: object) -> None:
    with pytest.raises(InvalidInput, match=f"invalid file name: {re.escape(repr(filename))}$"):
        release_file(filename=filename)


@pytest.mark.parametrize(
    "sha256",
    [
        pytest.param("AB" * 32, id="uppercase"),
        pytest.param("ab" * 31, id="short"),
        pytest.param("zz" * 32, id="not-hex"),
        pytest.param(None, id="none"),
        pytest.param(bytes(32), id="raw-bytes"),
    ],
)
def test_release_file_refuses_digests(sha256: object) -> None:
    with pytest.raises(InvalidInput, match="invalid sha256 digest"):
        release_file(sha256=sha256)


@pytest.mark.parametrize("size", [0, 1, 10, 2**40])
def test_release_file_accepts_sizes(size: int) -> None:
    assert release_file(size=size).size == size


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(-1, id="negative"),
        pytest.param(1.0, id="float"),
        pytest.param("10", id="str"),
        pytest.param(None, id="none"),
    ],
)
def test_release_file_refuses_sizes(size: object) -> None:
    message = f"acme-1.0.tar.gz: size must be a whole number of bytes, got {size!r}"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        release_file(size=size)


def test_release_file_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SDIST.sha256 = "cd" * 32  # type: ignore[misc]


@pytest.mark.parametrize(("project", "expected"), [("acme", "acme"), ("Acme_Tools.Core", "acme-tools-core")])
def test_release_canonicalizes_its_project(project: str, expected: str) -> None:
    assert release(project=project).project == expected


@pytest.mark.parametrize(
    "project",
    [
        pytest.param("", id="empty"),
        pytest.param("acme/evil", id="slash"),
        pytest.param("acme\n", id="newline"),
        pytest.param(None, id="none"),
    ],
)
def test_release_refuses_project_names(project: object) -> None:
    with pytest.raises(InvalidInput, match="invalid project name"):
        release(project=project)


@pytest.mark.parametrize("version", ["1.0", "1!2.0.post1+local.7", "2026.1.1rc1", "1_0-beta", "0", "v" * 128])
def test_release_keeps_the_version_as_spelled(version: str) -> None:
    assert release(version=version).version == version


@pytest.mark.parametrize(
    "version",
    [
        pytest.param("", id="empty"),
        pytest.param("v" * 129, id="too-long"),
        pytest.param(" 1.0", id="leading-space"),
        pytest.param("1.0 ", id="trailing-space"),
        pytest.param("1.0\n", id="trailing-newline"),
        pytest.param("1.0/../../x", id="slash"),
        pytest.param("1.0\\x", id="backslash"),
        pytest.param(".1", id="leading-dot"),
        pytest.param("-1", id="leading-dash"),
        pytest.param("1.0\x00", id="nul"),
        pytest.param("1.0?x=1", id="query"),
        pytest.param(None, id="none"),
        pytest.param(1.0, id="float"),
        pytest.param(1, id="int"),
    ],
)
def test_release_refuses_versions(version: object) -> None:
    with pytest.raises(InvalidInput, match=f"invalid version: {re.escape(repr(version))}$"):
        release(version=version)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param((), "release acme 1.0 has no files", id="empty"),
        pytest.param([SDIST], "release acme 1.0 has no files", id="list-not-tuple"),
        pytest.param(None, "release acme 1.0 has no files", id="none"),
        pytest.param((SDIST, SDIST), "release acme 1.0 lists a file twice", id="same-file-twice"),
        pytest.param(
            (SDIST, dataclasses.replace(SDIST, sha256="cd" * 32)),
            "release acme 1.0 lists a file twice",
            id="same-name-other-bytes",
        ),
        pytest.param(
            ("acme-1.0.tar.gz",),
            "release acme 1.0 lists something that is not a ReleaseFile",
            id="name-instead-of-file",
        ),
        pytest.param(
            (SDIST, None), "release acme 1.0 lists something that is not a ReleaseFile", id="none-among-files"
        ),
    ],
)
def test_release_refuses_file_lists(files: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        release(files=files)


def test_with_files_appends_new_files_in_order() -> None:
    other = ReleaseFile(filename="acme-1.0.zip", sha256="ef" * 32, size=3)
    grown = release().with_files((WHEEL, other))
    assert grown.files == (SDIST, WHEEL, other)
    assert (grown.project, grown.version) == ("acme", "1.0")


def test_with_files_leaves_the_original_release_unchanged() -> None:
    original = release()
    original.with_files((WHEEL,))
    assert original.files == (SDIST,)


@pytest.mark.parametrize(
    "added",
    [
        pytest.param((SDIST,), id="same-file"),
        pytest.param((release_file(),), id="equal-copy"),
        pytest.param((SDIST, SDIST), id="same-file-twice"),
        pytest.param((), id="nothing"),
    ],
)
def test_with_files_ignores_files_already_present(added: tuple[ReleaseFile, ...]) -> None:
    """twine retries an upload: the same bytes under the same name are not a change."""
    assert release().with_files(added) == release()


def test_with_files_keeps_a_file_added_twice_once() -> None:
    assert release().with_files((WHEEL, WHEEL)).files == (SDIST, WHEEL)


@pytest.mark.parametrize(
    ("present", "added"),
    [
        pytest.param((SDIST,), (dataclasses.replace(SDIST, sha256="ee" * 32),), id="other-sha256"),
        pytest.param((SDIST,), (dataclasses.replace(SDIST, size=11),), id="other-size"),
        pytest.param(
            (SDIST,),
            (WHEEL, dataclasses.replace(WHEEL, sha256="ee" * 32)),
            id="conflict-within-added",
        ),
    ],
)
def test_with_files_refuses_other_bytes_under_a_present_name(
    present: tuple[ReleaseFile, ...], added: tuple[ReleaseFile, ...]
) -> None:
    """A file swapped after the upload must never replace the one the approvers were shown."""
    with pytest.raises(InvalidInput, match=r"acme-1\.0.* was already uploaded with sha256 (ab|cd){32} and \d+ bytes$"):
        release(files=present).with_files(added)


def test_policy_change_holds_the_proposed_policy() -> None:
    proposed = Policy(
        scope=Scope.project("acme"), version=2, groups=(ApprovalGroup(name="owners", members=frozenset({"ann"})),)
    )
    assert PolicyChange(proposed=proposed).proposed is proposed


def test_public_names() -> None:
    assert dir(subjects) == ["PolicyChange", "Release", "ReleaseFile", "Subject"]


@pytest.mark.parametrize("added", [("acme-1.0.tar.gz",), (None,)], ids=["name", "none"])
def test_with_files_takes_release_files_only(added: tuple[object, ...]) -> None:
    with pytest.raises(InvalidInput, match="with_files takes ReleaseFile values only"):
        release().with_files(added)  # type: ignore[arg-type]
