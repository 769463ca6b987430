"""Approval records: which exact files of a ``tpp`` index were approved, kept in devpi's own keyfs.

A version's record lives in that version's own keyfs value (devpi's ``PROJVERSION`` key, the
version's metadata), under a key no upload can set::

    {"name": "acme", "version": "1.0", "summary": …, "+elinks": […],
     "tpp_approved": {"index": "alice/rel", "files": {"acme-1.0-py3-none-any.whl": "<sha256>"}}}

So an approval rewrites one version's value, whatever the size of the index; the record is
replicated with the version, exported and imported with it (a plain key: devpi-import refuses
``+`` keys), deleted with it, and read by the filters in the transaction they already hold.

devpi builds an upload's or a registration's metadata from its own list of metadata fields
(``PrivateStage.metadata_keys``), so a form field named ``tpp_approved`` is dropped. ``devpi push``
copies a version's plain keys to the target index, so a record names the index it was written for,
and counts nowhere else. Only an approval writes here (:func:`approve`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .memo import memo_of

__all__ = ["KEY", "approve", "approved_files"]

#: The version-data key of a record; plain (no "+"), so devpi-export and devpi-import keep it.
KEY = "tpp_approved"

Files = Mapping[str, str]  # basename -> sha256


def approved_files(stage: Any, project: str, version: str) -> Files:
    """The approved files of ``project`` ``version`` on ``stage``, ``{basename: sha256}``; empty when
    there are none, or when the record was written for another index (copied by ``devpi push``).

    Reads the version data in the caller's keyfs transaction, or takes the record read at an
    earlier serial when the version's key has not changed since (:mod:`.memo`).
    """
    relpath = stage.key_projversion(project, version).relpath
    return memo_of(stage.keyfs).get(stage.keyfs, relpath, (relpath,), lambda: _read(stage, project, version))


def _read(stage: Any, project: str, version: str) -> Files:
    record = stage.get_versiondata_perstage(project, version).get(KEY)
    if not isinstance(record, Mapping) or record.get("index") != stage.name:
        return {}
    files = record.get("files")
    return files if isinstance(files, Mapping) else {}


def approve(stage: Any, project: str, version: str, files: Iterable[tuple[str, str]]) -> bool:
    """Record ``files`` (basename, sha256) of ``project`` ``version`` as approved on ``stage``; needs a
    write transaction. False (nothing written) if the stage does not hold the version."""
    key = stage.key_projversion(project, version)
    if not key.exists():
        return False
    with key.update() as data:
        approved = dict(_read(stage, project, version))
        approved.update(files)
        data[KEY] = {"index": stage.name, "files": approved}
    return True
