"""Approval records: which exact files of a ``tpp`` index were approved, kept in devpi's own keyfs.

A record lives in the index owner's user record, under a key devpi's user API neither shows nor
accepts (like devpi-tokens' tokens), so it is written atomically with devpi's data, replicated with
it, exported and imported with it, and readable by the filters in the transaction they already hold::

    {"tpp": {"rel": {"acme": {"1.0": {"acme-1.0-py3-none-any.whl": "<sha256>"}}}}}
      key     index  project  version  basename -> sha256

Only an approval writes here (:func:`approve`); nothing an uploader sends can.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KEY", "approve", "approved_files", "forget_index"]

#: The user-record key; plain (no "+"), so devpi-export and devpi-import keep it.
KEY = "tpp"

Files = Mapping[str, str]  # basename -> sha256


def _user_key(xom: Any, user: str) -> Any:
    return xom.keyfs.USER(user=user)


def approved_files(xom: Any, user: str, index: str) -> Mapping[str, Mapping[str, Files]]:
    """The index's records, ``{project: {version: {basename: sha256}}}``; empty when there are none.

    Reads the user record in the caller's keyfs transaction (devpi caches it there).
    """
    config = _user_key(xom, user).get()
    records = config.get(KEY, {}).get(index, {}) if config else {}
    return records if isinstance(records, Mapping) else {}


def approve(xom: Any, user: str, index: str, project: str, version: str, files: Iterable[tuple[str, str]]) -> None:
    """Record ``files`` (basename, sha256) of ``project`` ``version`` as approved; needs a write transaction."""
    with _user_key(xom, user).update() as config:
        version_files = config.setdefault(KEY, {}).setdefault(index, {}).setdefault(project, {}).setdefault(version, {})
        version_files.update(dict(files))


def forget_index(xom: Any, user: str, index: str) -> None:
    """Drop every record of ``index`` (a new index of an old name starts with nothing approved)."""
    with _user_key(xom, user).update() as config:
        if index in config.get(KEY, {}):
            del config[KEY][index]
