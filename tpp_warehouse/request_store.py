"""Requests in the database: rows in, tpp_core ApprovalRequests out, and back.

The store never decides anything; it rebuilds the core object the rules run on and writes back
what changed. Decisions are written by the approval service, which holds their raw assertions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload
from zope.interface import implementer

from tpp_core import (
    ApprovalRequest,
    Decision,
    IRequestStore,
    NotFound,
    PersonId,
    Policy,
    PolicyChange,
    ProjectName,
    Release,
    ReleaseFile,
    RequestId,
    RequestState,
    Scope,
    Sha256,
    Verdict,
)

from .models import DecisionRecord, PolicyRecord, RequestFileRecord, RequestRecord

__all__ = ["RequestStore"]


@implementer(IRequestStore)
class RequestStore:
    """The ``tpp_requests`` table and its files and decisions, through ``session``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, request_id: RequestId, *, lock: bool = False) -> ApprovalRequest:
        """The request; ``lock`` holds its row until commit, so two decisions queue up.

        :raises NotFound: if there is no such request.
        """
        return _request(self.record(request_id, lock=lock))

    def record(self, request_id: object, *, lock: bool = False) -> RequestRecord:
        """The request's row. :raises NotFound: if there is none."""
        query = select(RequestRecord).where(RequestRecord.id == request_id)
        if lock:
            # Locked reads must see what the transaction that held the lock committed, not the
            # session's cached copy.
            query = query.with_for_update().execution_options(populate_existing=True)
        record = self._session.scalars(query).first() if isinstance(request_id, str) else None
        if record is None:
            raise NotFound(f"there is no request {request_id!r}")
        return record

    def add(self, request: ApprovalRequest, *, index: str | None = None) -> RequestRecord:
        """Store a newly opened request, pinned to the stored row of its policy's version; ``index``
        is where its upload went, on a host of many indexes.

        :raises NotFound: if that version of the policy is not stored.
        """
        scope = request.policy.scope
        policy = self._session.scalars(
            select(PolicyRecord).where(
                PolicyRecord.scope_kind == scope.kind.value,
                PolicyRecord.scope_value == scope.value,
                PolicyRecord.version == request.policy.version,
            )
        ).first()
        if policy is None:
            raise NotFound(f"policy {scope} v{request.policy.version} is not stored; a request must pin a stored one")
        record = RequestRecord(
            id=request.id,
            registry_name=request.registry,
            uploader=request.uploader,
            policy=policy,
            opened_at=request.opened_at,
            expires_at=request.expires_at,
            state=request.state.value,
            proposed=None,
            project=None,
            version=None,
            kind="release",
            index_name=index,
        )
        if isinstance(request.subject, Release):
            record.project, record.version = request.subject.project, request.subject.version
        else:
            record.kind, record.proposed = "policy-change", request.subject.proposed.to_dict()
        self._session.add(record)
        self.save(request)
        return record

    def save(self, request: ApprovalRequest) -> None:
        """Write the request's state, its new files, and which decisions still count."""
        record = self.record(request.id)
        record.state = request.state.value
        if isinstance(request.subject, Release):
            known = {f.filename for f in record.files}
            for file in request.subject.files:
                if file.filename not in known:
                    record.files.append(RequestFileRecord(filename=file.filename, sha256=file.sha256, size=file.size))
        counting = {(d.person, d.verdict.value, d.at) for d in request.decisions}
        for decision in record.decisions:
            if not decision.withdrawn and (decision.person, decision.verdict, decision.at) not in counting:
                decision.withdrawn = True
        self._session.flush()

    def add_decision(self, request_id: RequestId, decision: DecisionRecord) -> None:
        """Store a verified decision with its evidence; :meth:`save` then counts or withdraws it."""
        record = self.record(request_id)  # held: the collection keeps only a weak reference to it
        record.decisions.append(decision)
        self._session.flush()

    def indexes(self, request_ids: Iterable[RequestId]) -> dict[RequestId, str]:
        """The index each of these requests' uploads went to, for those that name one."""
        query = select(RequestRecord.id, RequestRecord.index_name).where(
            RequestRecord.id.in_(list(request_ids)), RequestRecord.index_name.is_not(None)
        )
        return {RequestId(id_): str(index) for id_, index in self._session.execute(query)}

    def overdue(self, at: datetime) -> list[ApprovalRequest]:
        """Verifying requests whose deadline is at or before ``at``, oldest first."""
        return self._requests(
            (RequestRecord.state == RequestState.VERIFYING.value) & (RequestRecord.expires_at <= at),
            RequestRecord.expires_at,
        )

    def verifying(self) -> list[ApprovalRequest]:
        """Every verifying request, oldest first."""
        return self._requests(RequestRecord.state == RequestState.VERIFYING.value, RequestRecord.opened_at)

    def verifying_release(self, project: ProjectName, version: str) -> ApprovalRequest | None:
        """The verifying request of this release, if one is open (more files join it), locked as
        :meth:`get` locks; one decided while this waited for the lock is not found."""
        query = select(RequestRecord).where(
            RequestRecord.state == RequestState.VERIFYING.value,
            RequestRecord.project == project,
            RequestRecord.version == version,
        )
        found = self._session.scalars(query.with_for_update().execution_options(populate_existing=True)).first()
        return None if found is None else _request(found)

    def changing(self, scope: Scope) -> list[ApprovalRequest]:
        """The verifying policy-change requests of a scope, oldest first."""
        pinned = select(PolicyRecord.id).where(
            PolicyRecord.scope_kind == scope.kind.value, PolicyRecord.scope_value == scope.value
        )
        return self._requests(
            (RequestRecord.state == RequestState.VERIFYING.value)
            & (RequestRecord.kind == "policy-change")
            & RequestRecord.policy_id.in_(pinned),
            RequestRecord.opened_at,
        )

    def of_project(self, project: ProjectName) -> list[ApprovalRequest]:
        """The project's release requests, newest first."""
        return self._requests(RequestRecord.project == project, RequestRecord.opened_at.desc())

    def _requests(
        self, where: ColumnElement[bool], order: ColumnElement[Any] | InstrumentedAttribute[Any]
    ) -> list[ApprovalRequest]:
        query = (
            select(RequestRecord)
            .where(where)
            .order_by(order)
            .options(selectinload(RequestRecord.files), selectinload(RequestRecord.decisions))
        )
        return [_request(record) for record in self._session.scalars(query)]


def _request(record: RequestRecord) -> ApprovalRequest:
    policy = Policy.from_dict(record.policy.document)
    if record.kind == "release":
        files = tuple(ReleaseFile(filename=f.filename, sha256=Sha256(f.sha256), size=f.size) for f in record.files)
        subject: Release | PolicyChange = Release(
            project=ProjectName(record.project or ""), version=record.version or "", files=files
        )
    else:
        subject = PolicyChange(proposed=Policy.from_dict(record.proposed))
    decisions = [
        Decision(person=PersonId(d.person), verdict=Verdict(d.verdict), at=d.at, challenge=d.challenge)
        for d in record.decisions
        if not d.withdrawn
    ]
    return ApprovalRequest(
        id=RequestId(record.id),
        registry=record.registry_name,
        subject=subject,
        uploader=PersonId(record.uploader),
        policy=policy,
        opened_at=record.opened_at,
        expires_at=record.expires_at,
        state=RequestState(record.state),
        decisions=decisions,
    )
