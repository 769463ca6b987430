"""What a request decides on: a release's files, or a change to a policy.

>>> wheel = ReleaseFile(filename="acme-1.0-py3-none-any.whl", sha256="ab" * 32, size=1024)
>>> Release(project="Acme", version="1.0", files=(wheel,)).project
'acme'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidInput
from .identifiers import ProjectName, Sha256, canonicalize_project, sha256_hex
from .policy import Policy

__all__ = ["PolicyChange", "Release", "ReleaseFile", "Subject"]

# A file name as registries accept it: no path separators, no control characters, bounded length.
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]{0,254}")
# Versions are kept as the registry spelled them (devpi allows non-PEP 440 ones); they must stay
# printable and short because they appear in URLs, messages and manifests.
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]{0,127}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseFile:
    """One uploaded distribution file, identified by its name and the sha256 of its bytes."""

    filename: str
    sha256: Sha256
    size: int

    def __post_init__(self) -> None:
        if not isinstance(self.filename, str) or not _FILENAME.fullmatch(self.filename):
            raise InvalidInput(f"invalid file name: {self.filename!r}")
        sha256_hex(self.sha256)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InvalidInput(f"{self.filename}: size must be a whole number of bytes, got {self.size!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """A project version and its files; the project name is canonicalized when built."""

    project: ProjectName
    version: str
    files: tuple[ReleaseFile, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "project", canonicalize_project(self.project))
        if not isinstance(self.version, str) or not _VERSION.fullmatch(self.version):
            raise InvalidInput(f"invalid version: {self.version!r}")
        if not isinstance(self.files, tuple) or not self.files:
            raise InvalidInput(f"release {self.project} {self.version} has no files")
        if not all(isinstance(f, ReleaseFile) for f in self.files):
            raise InvalidInput(f"release {self.project} {self.version} lists something that is not a ReleaseFile")
        names = [f.filename for f in self.files]
        if len(set(names)) != len(names):
            raise InvalidInput(f"release {self.project} {self.version} lists a file twice")

    def with_files(self, added: tuple[ReleaseFile, ...]) -> Release:
        """This release plus ``added``; files already present with the same digest are ignored.

        :raises InvalidInput: if an added file has the name of a present one but other bytes.
        """
        if not all(isinstance(f, ReleaseFile) for f in added):
            raise InvalidInput("with_files takes ReleaseFile values only")
        present = {f.filename: f for f in self.files}
        new = []
        for file in added:
            known = present.get(file.filename)
            if known is None:
                new.append(file)
                present[file.filename] = file
            elif known != file:
                raise InvalidInput(
                    f"{file.filename} was already uploaded with sha256 {known.sha256} and {known.size} bytes"
                )
        return Release(project=self.project, version=self.version, files=self.files + tuple(new))


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyChange:
    """A proposal to replace the current policy of a scope with ``proposed``."""

    proposed: Policy


#: What a request can decide on.
Subject = Release | PolicyChange


def __dir__() -> list[str]:
    return __all__
