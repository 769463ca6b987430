"""The audit log page: every entry, newest first, and a check of the whole hash chain (I8).

It needs a browser session (I3), like every page; anyone signed in may read it. ``?page=N`` pages
through it, ``PAGE_SIZE`` entries a page; ``?subject=request:<id>`` keeps one subject's entries.

The page verifies the whole hash chain on every view. A broken chain does not fail the page:
it answers 200 with the :class:`~tpp_core.AuditChainBroken` message shown prominently above the
entries (``data-chain="broken"``), because this page is where an operator investigates the damage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from pyramid.view import view_config, view_defaults

from tpp_core import AuditChainBroken, AuditEntry, InvalidInput, verify_chain
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.security import session_person

__all__ = ["PAGE_SIZE", "AuditViews", "ChainCheck", "check_chain", "parse_page"]

#: Audit entries per page.
PAGE_SIZE = 50
# Subjects are stored in at most 255 characters; a longer filter cannot match anything.
_MAX_SUBJECT = 255


def parse_page(value: str | None) -> int:
    """The page number of ``?page=``; the first page when absent.

    >>> parse_page(None), parse_page("3")
    (1, 3)
    >>> parse_page("0")
    Traceback (most recent call last):
    ...
    tpp_core.errors.InvalidInput: page must be a whole number of at least 1, got '0'

    :raises InvalidInput: unless it is a whole number of at least 1.
    """
    if value is None:
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise InvalidInput(f"page must be a whole number of at least 1, got {value[:20]!r}")
    return int(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainCheck:
    """The outcome of verifying the whole chain: its length and head, or why it is broken."""

    count: int | None
    head: str | None
    broken: str | None


def check_chain(log: DatabaseAuditLog) -> ChainCheck:
    """Verify every link of the log, remembering the newest hash on the way (one pass)."""
    last: list[AuditEntry] = []

    def tap(entries: Iterator[AuditEntry]) -> Iterator[AuditEntry]:
        for entry in entries:
            last[:] = [entry]
            yield entry

    with closing(log.entries()) as entries:
        try:
            count = verify_chain(tap(entries))
        except AuditChainBroken as error:
            return ChainCheck(count=None, head=None, broken=str(error))
    return ChainCheck(count=count, head=last[0].hash if last else None, broken=None)


def compact(data: Any) -> str:
    """An entry's data as compact, stable JSON."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@view_defaults(route_name="tpp.audit", renderer="tpp_warehouse:templates/tpp/audit.jinja2", request_method="GET")
class AuditViews:
    """The audit log, newest first, ``PAGE_SIZE`` entries a page, with the chain verified each time."""

    def __init__(self, request: Any) -> None:
        self.request = request
        # The log has no service registration of its own; it reads through TPP's session.
        self.log = DatabaseAuditLog(request.tpp_db)

    @view_config()
    def show(self) -> dict[str, Any]:
        session_person(self.request)
        page = parse_page(self.request.GET.get("page"))
        subject = self.request.GET.get("subject") or None
        if subject is not None and len(subject) > _MAX_SUBJECT:
            raise InvalidInput(f"subject must be at most {_MAX_SUBJECT} characters long")
        chain = check_chain(self.log)
        total = self.log.count(subject)
        entries = self.log.newest(subject, skip=PAGE_SIZE * (page - 1), limit=PAGE_SIZE)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        return {
            "chain": chain,
            "entries": entries,
            "compact": compact,
            "page": page,
            "pages": pages,
            "total": total,
            "subject": subject,
        }
