"""The audit chain in the database: tpp_core's hash chain, appended in the caller's transaction (I8).

Usage::

    log = DatabaseAuditLog(session)
    log.record(action)        # for each RecordAudit a request returned, before commit
    log.verify()              # -> number of entries; raises AuditChainBroken if anything was edited
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import closing
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import AuditEntry, IAuditLog, PersonId, RecordAudit, link, verify_chain

from .db import serialize
from .models import AuditRecord

__all__ = ["DatabaseAuditLog"]

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

    def count(self, subject: str | None = None) -> int:
        """How many entries the log holds, or holds about ``subject``."""
        return self._session.scalar(self._about(select(func.count(AuditRecord.seq)), subject)) or 0

    def newest(self, subject: str | None = None, *, skip: int = 0, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` entries (about ``subject``), newest first, after skipping the ``skip`` newest."""
        query = self._about(select(AuditRecord), subject).order_by(AuditRecord.seq.desc())
        return [_entry(record) for record in self._session.scalars(query.offset(skip).limit(limit))]

    @staticmethod
    def _about(query: Select[T], subject: str | None) -> Select[T]:
        return query if subject is None else query.where(AuditRecord.subject == subject)

    def verify(self) -> int:
        """Check the whole chain; returns its length.

        :raises AuditChainBroken: naming the first entry that was altered, removed or moved.
        """
        with closing(self.entries()) as entries:
            return verify_chain(entries)


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
