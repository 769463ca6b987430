"""The audit log page: the entries in words, newest first, filtered, with the whole hash chain
checked (I8).

It needs a browser session (I3), like every page; anyone signed in may read it. Filters are GET
parameters that combine, and paging (``?page=N``, ``PAGE_SIZE`` entries a page) keeps them::

    /tpp/audit?project=acme&person=bob&kind=tpp:request:approval&page=2

``project`` (``acme``, or ``acme-*`` for a prefix's policy) keeps its policy's entries and those of
its requests; ``person`` what they did and what was done about them; ``kind`` one kind;
``subject`` one subject (``request:<id>``). A bad value is a 400 naming it.

The page verifies the whole hash chain on every view. A broken chain does not fail the page:
it answers 200 with the :class:`~tpp_core.AuditChainBroken` message shown prominently above the
entries (``data-chain="broken"``), because this page is where an operator investigates the damage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from pyramid.view import view_config, view_defaults

from tpp_core import AuditChainBroken, AuditEntry, InvalidInput, Scope, person_id, verify_chain
from tpp_warehouse.audit import AuditFilter, DatabaseAuditLog
from tpp_warehouse.security import session_person

from .audit_wording import KINDS, compact, read, sections

__all__ = ["PAGE_SIZE", "AuditViews", "ChainCheck", "check_chain", "parse_filter", "parse_page"]

#: Audit entries per page.
PAGE_SIZE = 50
#: The longest value each filter can match: the columns' sizes (tpp_warehouse.models).
_LIMITS = {"project": 255, "person": 100, "kind": 64, "subject": 255}
# The shape tpp_core.audit gives kinds: "source:subject:action".
_KIND = re.compile(r"[a-z]+:[a-z-]+:[a-z-]+")


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


def parse_filter(params: Mapping[str, str]) -> AuditFilter:
    """The filter the GET parameters choose; an empty parameter (a form's untouched field) is no filter.

    >>> chosen = parse_filter({"project": "Acme_Tools", "person": "", "kind": "tpp:request:approval"})
    >>> str(chosen.scope), chosen.person, chosen.kind
    ('acme-tools', None, 'tpp:request:approval')
    >>> parse_filter({"kind": "approvals"})
    Traceback (most recent call last):
    ...
    tpp_core.errors.InvalidInput: kind must read like 'tpp:request:approval', got 'approvals'

    :raises InvalidInput: naming the parameter that is too long or malformed.
    """
    given = {name: params.get(name) or None for name in _LIMITS}
    for name, value in given.items():
        if value is not None and len(value) > _LIMITS[name]:
            raise InvalidInput(f"{name} must be at most {_LIMITS[name]} characters long")
    project, person, kind = given["project"], given["person"], given["kind"]
    if kind is not None and not _KIND.fullmatch(kind):
        raise InvalidInput(f"kind must read like 'tpp:request:approval', got {kind!r}")
    return AuditFilter(
        scope=None if project is None else _scope(project),
        person=None if person is None else person_id(person),
        kind=kind,
        subject=given["subject"],
    )


def _scope(project: str) -> Scope:
    """A project's scope, or a prefix's (written with a trailing ``*``, as its policy's subject is)."""
    return Scope.prefix(project[:-1]) if project.endswith("*") else Scope.project(project)


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
        chosen = parse_filter(self.request.GET)
        chain = check_chain(self.log)
        total = self.log.count(chosen)
        entries = self.log.newest(chosen, skip=PAGE_SIZE * (page - 1), limit=PAGE_SIZE)
        mentions = self.log.mentions(entries)
        # The form shows each filter as it took effect (a project's canonical name).
        shown = {
            "project": None if chosen.scope is None else str(chosen.scope),
            "person": chosen.person,
            "kind": chosen.kind,
            "subject": chosen.subject,
        }
        return {
            "chain": chain,
            "rows": [(entry, read(entry, mentions)) for entry in entries],
            "compact": compact,
            "page": page,
            "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            "total": total,
            "filters": {name: value for name, value in shown.items() if value is not None},
            "sections": sections(),
            "kinds": KINDS,
        }
