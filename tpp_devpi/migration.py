"""Moving approval records of the old format into the versions they approve, at start-up.

Before issue 13 every record of an owner's ``tpp`` indexes lived in the owner's user record, under
``"tpp"`` (``{index: {project: {version: {basename: sha256}}}}``), so each approval rewrote all of
them. :func:`migrate` moves each into its version's value (:mod:`.records`) and drops the old key,
one write transaction per user: either all of a user's records moved and the old key is gone, or
nothing changed. The gate reads only the new records, so a migration that fails leaves the files
hidden (fail closed) and is tried again at the next start-up. Records of indexes, projects or
versions that no longer exist, and damaged ones, are dropped: they approve nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .gate import is_gated
from .records import approve

__all__ = ["OLD_KEY", "migrate"]

log = logging.getLogger(__name__)

#: The user-record key of the old format.
OLD_KEY = "tpp"


def migrate(xom: Any) -> int:
    """Move every old-format record into its version (on the primary); returns the files moved.

    Never raises: a user whose records cannot be moved is logged and keeps them for the next try.
    """
    with xom.keyfs.read_transaction():
        users = [user.name for user in xom.model.get_userlist() if OLD_KEY in (user.key.get() or {})]
    moved = 0
    for name in users:
        try:
            with xom.keyfs.write_transaction():
                moved += _migrate_user(xom, name)
        except Exception:
            log.exception("tpp: could not move %s's approval records; their files stay hidden until it works", name)
    if users:
        log.info("tpp: moved %d approved files' records of %d users into their versions", moved, len(users))
    return moved


def _migrate_user(xom: Any, name: str) -> int:
    moved = 0
    with xom.keyfs.USER(user=name).update() as config:
        old = config.pop(OLD_KEY, None)
        for index, projects in _items(old):
            stage = xom.model.getstage(name, index)
            if stage is None or not is_gated(stage):
                continue
            for project, versions in _items(projects):
                for version, files in _items(versions):
                    valid = [(basename, sha256) for basename, sha256 in _items(files) if isinstance(sha256, str)]
                    if valid and approve(stage, project, version, valid):
                        moved += len(valid)
    return moved


def _items(value: Any) -> list[tuple[str, Any]]:
    """A record level's entries; a damaged level (not a mapping) has none."""
    return [(k, v) for k, v in value.items() if isinstance(k, str)] if isinstance(value, Mapping) else []
