"""Whether devpi announces a file's bytes: a held file of a ``tpp`` index is one it has none of.

devpi's replicas copy a file only when its entry (the ``STAGEFILE`` value) names a
``last_modified`` time. An entry without one is a file whose bytes have not arrived, as a mirror's
link before it is fetched: a replica's file replication skips it ("there is no remote file"), its
notifier does not wait for it, and devpi-export leaves it out. So a held file is stored without that
time (its bytes stay on the primary's disk, refused to everyone by :mod:`.denials`), and the
approval that publishes it sets the time, in the same keyfs transaction as its record::

    upload (held)      {"hashes": {...}, "project": "acme", "version": "1.0"}
    approval           {"hashes": {...}, "project": "acme", "version": "1.0", "last_modified": "..."}

The approval's change of the entry is what devpi replicates to every replica at once, which fetches
the bytes from the primary then, with no client asking first. Held bytes never reach a replica: it
never asks for them, and the primary would refuse them anyway.

:func:`withhold_tween` keeps the time off every file a request stores in a ``tpp`` index without an
approval (``twine upload``, ``devpi push`` into the index, documentation); :func:`announce` sets it
on approved files; :func:`settle_all` brings entries written before this plugin version in line,
once at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.handlers import format_date_time

from devpi_server.filestore import FileEntry

from .gate import Approvals, is_gated

__all__ = ["announce", "includeme", "settle_all", "withhold", "withhold_tween"]

log = logging.getLogger(__name__)

_TIME = "last_modified"


def withhold_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Under devpi's keyfs tween, on the primary: a request's new files of ``tpp`` indexes that no
    record approves are stored without their time, before its transaction commits."""
    xom = registry["xom"]
    if xom.is_replica():
        return handler

    def tween(request: Any) -> Any:
        response = handler(request)
        tx = getattr(xom.keyfs, "tx", None)
        if tx is not None and tx.write and not tx.doomed:
            _withhold_changed(xom, tx)
        return response

    return tween


def _withhold_changed(xom: Any, tx: Any) -> None:
    file_key = xom.keyfs.STAGEFILE.name
    for key in [key for key in tx.dirty if key.name == file_key]:
        try:
            withhold(xom, key)
        except Exception:  # the file is still refused; only a replica would wait for it
            log.exception("tpp: cannot keep the bytes of %s from replicas", key.relpath)


def withhold(xom: Any, key: Any) -> None:
    """Drop the time of the file entry at ``key`` unless a record approves it (a write transaction)."""
    value = key.get_mutable() if key.exists() else None
    if not value or _TIME not in value:
        return
    entry = FileEntry(key, value)
    stage = xom.model.getstage(entry.user, entry.index)
    if stage is None or not is_gated(stage) or _approved(stage, entry):
        return
    del value[_TIME]
    key.set(value)


def announce(links: Iterable[Any]) -> None:
    """Give the approved files of ``links`` their time, so that replicas fetch them (a write transaction)."""
    for link in links:
        key = link.entry.key
        value = key.get_mutable() if key.exists() else None
        if value and _TIME not in value:
            value[_TIME] = format_date_time(None)
            key.set(value)


def settle_all(xom: Any) -> int:
    """At start-up on the primary: every file of every ``tpp`` index has its time exactly when a
    record approves it; returns how many entries changed."""
    changed = 0
    with xom.keyfs.write_transaction():
        for user in xom.model.get_userlist():
            for stage in user.getstages():
                if is_gated(stage):
                    changed += _settle_stage(stage)
    if changed:
        log.info("tpp: settled which files replicas may fetch: %s entries changed", changed)
    return changed


def _settle_stage(stage: Any) -> int:
    approvals = Approvals(stage)
    changed = 0
    for project in stage.list_projects_perstage():
        for link in stage.get_releaselinks_perstage(project):
            announced = link.entry.last_modified is not None
            approved = approvals.file_approved(project, link.version, link.basename, link.hashes.get("sha256"))
            if approved and not announced:
                announce([link])
            elif announced and not approved:
                withhold(stage.xom, link.entry.key)
            else:
                continue
            changed += 1
    return changed


def _approved(stage: Any, entry: Any) -> bool:
    approvals = Approvals(stage)
    return approvals.file_approved(entry.project or "", entry.version or "", entry.basename, entry.hashes.get("sha256"))


def includeme(config: Any) -> None:
    config.add_tween("tpp_devpi.availability.withhold_tween", under="devpi_server.views.tween_keyfs_transaction")
