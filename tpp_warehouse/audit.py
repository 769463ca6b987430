"""The audit chain in the database: tpp_core's hash chain, appended in the caller's transaction (I8).

Usage::

    log = DatabaseAuditLog(session)
    log.record(action)        # for each RecordAudit a request returned, before commit
    log.verify()              # -> number of entries; raises AuditChainBroken if anything was edited
    log.newest(AuditFilter(person="bob"), limit=50)   # what bob did, or what was done about him

Reading is filtered, counted and paged in SQL: the log only grows, and a page shows fifty entries.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from zope.interface import implementer

from tpp_core import AuditEntry, IAuditLog, PersonId, RecordAudit, Scope, ScopeKind, link, verify_chain

from .db import serialize
from .models import AuditRecord, DecisionRecord, DeviceRecord, PolicyRecord, RequestRecord

__all__ = ["AuditFilter", "DatabaseAuditLog", "Mentions", "RequestFacts"]

#: Where a device's entries start: the person who enrolled it is the one they are about.
_ENROLLED = "tpp:device:enrolled"
#: The entries recording a decision, and the verdict each records (its device signed it).
_DECISIONS = {"tpp:request:approval": "approve", "tpp:request:rejected": "reject"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    """Which entries to read; each field given narrows the choice (they combine).

    ``scope``: a project's (or prefix's) policy entries and the entries of the requests about it;
    ``person``: entries by the person, or about them (their devices, invitations and vouchers);
    ``kind`` and ``subject``: exactly those.
    """

    scope: Scope | None = None
    person: PersonId | None = None
    kind: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFacts:
    """What a request is about, for naming it: a release (project, version), or a change of ``scope``'s policy."""

    project: str | None
    version: str | None
    scope: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Mentions:
    """What some entries name only by id, looked up for a reader in a few queries, not one per entry."""

    #: Request id -> what it is about.
    requests: Mapping[str, RequestFacts]
    #: Device id -> its name, for the devices still enrolled.
    devices: Mapping[int, str]
    #: Entry seq -> the name the device that signed the decision it records had then, or None if
    #: that was not recorded (before migration 0005, of a device removed since); absent if the log
    #: names a decision that is not stored.
    signed_with: Mapping[int, str | None]


T = TypeVar("T")


@implementer(IAuditLog)
class DatabaseAuditLog:
    """The hash-chained log in ``tpp_audit``, read and appended through ``session``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, action: RecordAudit) -> AuditEntry:
        """Append ``action`` after the current head, in the session's transaction."""
        # Two approvals committing at once wait for each other instead of one failing on the sequence.
        serialize(self._session, "audit")
        entry = link(
            self.head(),
            at=action.at,
            kind=action.kind,
            actor=action.actor,
            subject=action.subject,
            data=action.data,
        )
        self._session.add(
            AuditRecord(
                seq=entry.seq,
                at=entry.at,
                kind=entry.kind,
                actor=entry.actor,
                subject=entry.subject,
                data=dict(entry.data),
                prev=entry.prev,
                hash=entry.hash,
            )
        )
        self._session.flush()
        return entry

    def head(self) -> AuditEntry | None:
        """The newest entry, or None for an empty log."""
        record = self._session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).first()
        return None if record is None else _entry(record)

    def entries(self, subject: str | None = None) -> Generator[AuditEntry]:
        """The chain in order, or only the entries about ``subject`` (e.g. ``"request:r1"``)."""
        query = select(AuditRecord).order_by(AuditRecord.seq)
        if subject is not None:
            query = query.where(AuditRecord.subject == subject)
        result = self._session.scalars(query.execution_options(yield_per=500))
        try:  # close the server-side cursor even when the reader stops early
            for record in result:
                yield _entry(record)
        finally:
            result.close()

    def count(self, chosen: AuditFilter = AuditFilter()) -> int:
        """How many entries the log holds, or holds of the ``chosen`` ones."""
        return self._session.scalar(_where(select(func.count(AuditRecord.seq)), chosen)) or 0

    def newest(self, chosen: AuditFilter = AuditFilter(), *, skip: int = 0, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` of the ``chosen`` entries, newest first, after skipping the ``skip`` newest."""
        query = _where(select(AuditRecord), chosen).order_by(AuditRecord.seq.desc())
        return [_entry(record) for record in self._session.scalars(query.offset(skip).limit(limit))]

    def mentions(self, entries: Sequence[AuditEntry]) -> Mentions:
        """What ``entries`` name only by id: their requests, their devices, and the devices that
        signed their decisions; three queries, whatever the number of entries."""
        requests = self._session.execute(
            select(
                RequestRecord.id,
                RequestRecord.project,
                RequestRecord.version,
                PolicyRecord.scope_kind,
                PolicyRecord.scope_value,
            )
            .join(RequestRecord.policy)
            .where(RequestRecord.id.in_(_ids(entries, "request:")))
        )
        # Device ids are integers; a subject that is not one names no device.
        device_ids = [int(i) for i in _ids(entries, "device:") if i.isascii() and i.isdigit() and len(i) < 10]
        devices = self._session.execute(
            select(DeviceRecord.id, DeviceRecord.name).where(DeviceRecord.id.in_(device_ids))
        )
        return Mentions(
            requests={
                id: RequestFacts(project=project, version=version, scope=str(Scope(kind=ScopeKind(kind), value=value)))
                for id, project, version, kind, value in requests
            },
            devices=dict(devices.all()),
            signed_with=self._signed_with([e for e in entries if e.kind in _DECISIONS]),
        )

    def _signed_with(self, decisions: Sequence[AuditEntry]) -> dict[int, str | None]:
        """The name each decision entry's device had when it signed (None: not recorded), found by
        request, person, verdict and time (one who approved again after new files has two)."""
        rows = self._session.execute(
            select(
                DecisionRecord.request_id,
                DecisionRecord.person,
                DecisionRecord.verdict,
                DecisionRecord.at,
                DecisionRecord.device_name,
            ).where(DecisionRecord.request_id.in_(_ids(decisions, "request:")))
        )
        names: dict[tuple[str, str | None, str, datetime], str | None] = {
            (request, person, verdict, at): name for request, person, verdict, at, name in rows
        }
        keys = {e.seq: (e.subject.removeprefix("request:"), e.actor, _DECISIONS[e.kind], e.at) for e in decisions}
        return {seq: names[key] for seq, key in keys.items() if key in names}

    def verify(self) -> int:
        """Check the whole chain; returns its length.

        :raises AuditChainBroken: naming the first entry that was altered, removed or moved.
        """
        with closing(self.entries()) as entries:
            return verify_chain(entries)


def _ids(entries: Sequence[AuditEntry], prefix: str) -> set[str]:
    """The ids in the subjects of ``entries`` that start with ``prefix`` (``"request:"``)."""
    return {e.subject.removeprefix(prefix) for e in entries if e.subject.startswith(prefix)}


def _where(query: Select[T], chosen: AuditFilter) -> Select[T]:
    """``query`` narrowed to the ``chosen`` entries."""
    conditions: list[ColumnElement[bool]] = []
    if chosen.subject is not None:
        conditions.append(AuditRecord.subject == chosen.subject)
    if chosen.kind is not None:
        conditions.append(AuditRecord.kind == chosen.kind)
    if chosen.scope is not None:
        conditions.append(_about_scope(chosen.scope))
    if chosen.person is not None:
        conditions.append(_about_person(chosen.person))
    return query.where(*conditions)


def _about_scope(scope: Scope) -> ColumnElement[bool]:
    """The scope's policy entries (versions, invitations), and those of the requests about it: a
    release names its project, and a policy change pins the policy of the scope it changes."""
    pinned = select(PolicyRecord.id).where(
        PolicyRecord.scope_kind == scope.kind.value, PolicyRecord.scope_value == scope.value
    )
    requests: ColumnElement[bool] = RequestRecord.policy_id.in_(pinned)
    if scope.kind is ScopeKind.PROJECT:
        requests = or_(requests, RequestRecord.project == scope.value)
    subjects = select(literal("request:") + RequestRecord.id).where(requests)
    return or_(AuditRecord.subject == f"policy:{scope}", AuditRecord.subject.in_(subjects))


def _about_person(person: PersonId) -> ColumnElement[bool]:
    """What the person did, and what was done about them: a voucher for them, an invitation to them
    (entries whose data names them as ``person``), and everything about a device they enrolled."""
    enrolled = aliased(AuditRecord)
    devices = select(enrolled.subject).where(enrolled.actor == person, enrolled.kind == _ENROLLED)
    return or_(
        AuditRecord.actor == person,
        AuditRecord.data["person"].as_string() == person,
        AuditRecord.subject.in_(devices),
    )


def _entry(record: AuditRecord) -> AuditEntry:
    return AuditEntry(
        seq=record.seq,
        at=record.at,
        kind=record.kind,
        actor=None if record.actor is None else PersonId(record.actor),
        subject=record.subject,
        data=record.data,
        prev=record.prev,
        hash=record.hash,
    )
