"""Keeping held uploads out of a Warehouse-shaped host's journal until they are published.

Warehouse's upload writes ``JournalEntry`` rows ("new release", "add py3 file acme-1.0.whl") that
XML-RPC ``changelog_since_serial`` and mirrors (bandersnatch) read, and whose insert moves the
project's serial. For a gated project those entries would announce a held file. A ``before_flush``
listener on the host's session therefore drops them, and publishing writes the same entries, in the
host's wording, in the transaction that makes the files visible: the changelog and the serial move
when installers can see the release, and a rejected release never appears in them.

Usage::

    install_journal(Session, JournalEntry)               # once, from tpp_warehouse.warehouse
    write_published(session, JournalEntry, name, "1.0", [("py3", "acme-1.0-py3-none-any.whl")],
                    new_release=True)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from .holds import is_gated

__all__ = ["UPLOAD_ACTIONS", "install_journal", "write_published"]

#: The actions of Warehouse's upload (``warehouse/forklift/legacy.py``): a new release, and each file.
UPLOAD_ACTIONS = re.compile(r"new release|add \S+ file \S+")

#: ``session.info`` key: the entries TPP itself writes at publish, which the listener lets through.
_OWN = "tpp.journal"

_installed: set[int] = set()


def install_journal(session_target: Any, journal_cls: type) -> None:
    """Drop upload entries of gated projects from every flush of ``session_target``, once."""
    if id(session_target) in _installed:
        return

    def defer(session: Session, flush_context: Any, instances: Any) -> None:
        own = session.info.get(_OWN, ())
        entries: list[Any] = [obj for obj in session.new if isinstance(obj, journal_cls)]
        for entry in entries:
            action = getattr(entry, "action", None) or ""
            if entry in own or entry.version is None or not UPLOAD_ACTIONS.fullmatch(action):
                continue
            if is_gated(session, entry.name):
                session.expunge(entry)  # publishing writes it again, once the files are visible

    event.listen(session_target, "before_flush", defer)
    _installed.add(id(session_target))


def write_published(
    session: Session,
    journal_cls: type,
    name: str,
    version: str,
    files: Iterable[tuple[str, str]],
    *,
    new_release: bool,
) -> None:
    """Write the entries Warehouse's upload would have written for these (python_version, filename)
    files, and "new release" first when the release itself was held."""
    actions = ["new release"] if new_release else []
    actions += [f"add {python_version} file {filename}" for python_version, filename in files]
    entries = [journal_cls(name=name, version=version, action=action) for action in actions]
    session.info.setdefault(_OWN, set()).update(entries)
    session.add_all(entries)
    session.flush()


def __dir__() -> list[str]:
    return __all__
