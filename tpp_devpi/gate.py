"""The one fail-closed check: is this exact file of a ``tpp`` index approved?

Every filter, the download denial and the push denial ask :func:`file_approved` or
:func:`version_approved`; any exception (a damaged record, a devpi change) answers False, so the
file stays hidden (invariant I1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from devpi_common.validation import normalize_name as _devpi_normalize_name

from .records import approved_files

__all__ = [
    "TYPE",
    "Approvals",
    "file_approved",
    "holds",
    "index_type",
    "is_gated",
    "normalize_name",
    "version_approved",
]

#: The index type this plugin adds.
TYPE = "tpp"

log = logging.getLogger(__name__)


def normalize_name(name: str) -> str:
    """devpi's (PEP 503) form of a project name, which its keys use: ``Foo_Bar`` -> ``foo-bar``."""
    return str(_devpi_normalize_name(name))  # type: ignore[no-untyped-call]  # devpi_common is untyped


def index_type(stage: Any) -> str | None:
    """The type of the index ``stage`` ("stage", "mirror", "tpp"…), or None if it cannot be read."""
    try:
        kind = stage.ixconfig.get("type")
    except Exception:
        log.exception("cannot read the type of index %r", getattr(stage, "name", stage))
        return None
    return kind if isinstance(kind, str) else None


def is_gated(stage: Any) -> bool:
    """Whether ``stage`` is a ``tpp`` index (an unreadable config counts as gated)."""
    kind = index_type(stage)
    return kind is None or kind == TYPE


def holds(stage: Any, project: str) -> bool:
    """Whether ``stage`` holds a version of (the normalized) ``project``: one small keyfs value, the
    project's versions, rather than the index's list of every project."""
    return bool(stage.list_versions_perstage(project))


class Approvals:
    """The records of one ``tpp`` index, each version's read once (a customizer holds one per keyfs
    transaction)."""

    def __init__(self, stage: Any) -> None:
        self.stage = stage
        self._versions: dict[tuple[str, str], Mapping[str, str]] = {}

    def files(self, project: str, version: str) -> Mapping[str, str]:
        """The version's approved files, ``{basename: sha256}``; empty if they cannot be read."""
        found = self._versions.get((project, version))  # a page asks once per file: no normalizing
        if found is not None:
            return found
        key = (normalize_name(project), version)
        try:
            found = approved_files(self.stage, *key)
        except Exception:
            log.exception("cannot read the approval record of %s %s on %s; hiding it", *key, self.stage.name)
            found = {}
        self._versions[key] = self._versions[(project, version)] = found
        return found

    def file_approved(self, project: str, version: str, basename: str, sha256: str | None) -> bool:
        """Whether exactly this basename with exactly this sha256 was approved."""
        return file_approved(self.files(project, version), basename, sha256)

    def version_approved(self, project: str, version: str) -> bool:
        """Whether at least one file of the version was approved."""
        return version_approved(self.files(project, version))


def file_approved(files: Mapping[str, Any], basename: str, sha256: str | None) -> bool:
    """Whether a version's record ``files`` approve ``basename`` with this ``sha256``.

    >>> files = {"acme-1.0.tar.gz": "ab" * 32}
    >>> file_approved(files, "acme-1.0.tar.gz", "ab" * 32)
    True
    >>> file_approved(files, "acme-1.0.tar.gz", "cd" * 32)   # other bytes
    False
    >>> file_approved(files, "acme-1.0.tar.gz", None)        # no hash known
    False
    >>> file_approved(files, "acme-1.0-py3-none-any.whl", "ab" * 32)   # another file
    False
    """
    try:
        expected = files[basename]
        return isinstance(expected, str) and isinstance(sha256, str) and len(sha256) == 64 and expected == sha256
    except Exception:  # a missing record, or one of the wrong shape: hidden
        return False


def version_approved(files: Mapping[str, Any]) -> bool:
    """Whether a version's record ``files`` approve any file.

    >>> version_approved({"acme-1.0.tar.gz": "ab" * 32})
    True
    >>> version_approved({})
    False
    >>> version_approved({"acme-1.0.tar.gz": 7})  # damaged
    False
    """
    try:
        return any(file_approved(files, name, sha256) for name, sha256 in files.items())
    except Exception:
        return False
