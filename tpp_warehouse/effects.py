"""Carrying out what a request says must happen, in the transaction that changed it.

Audit entries, outbox rows, publishing, purging and policy changes all commit together with the
request's new state, or not at all (invariants I7, I8).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from tpp_core import (
    Action,
    ApplyPolicy,
    ApprovalRequest,
    Cancellation,
    IPolicyStore,
    Notify,
    NotifyReason,
    PersonId,
    Policy,
    Publish,
    Purge,
    RecordAudit,
    Release,
    RequestId,
)

from .audit import DatabaseAuditLog
from .interfaces import IHost
from .notifications import Outbox
from .request_store import RequestStore

__all__ = ["Effects", "policy_applied"]


def policy_applied(policy: Policy, *, at: datetime, by: PersonId, request: RequestId | None) -> RecordAudit:
    """The audit entry of a policy version coming into force (``request`` approved it, if any)."""
    data = {"version": policy.version, "policy": policy.to_dict(), "approved_by": request}
    return RecordAudit(at=at, kind="tpp:policy:applied", actor=by, subject=f"policy:{policy.scope}", data=data)


class Effects:
    """Runs a request's actions against the database, the host and the policy store."""

    def __init__(self, session: Session, host: IHost, policies: IPolicyStore, *, at: datetime) -> None:
        self._session = session
        self._audit = DatabaseAuditLog(session)
        self._outbox = Outbox(session, at=at)
        self._host = host
        self._policies = policies
        self._at = at

    def run(self, request: ApprovalRequest, actions: Iterable[Action]) -> None:
        """Carry out ``actions``, in order; any failure aborts the caller's transaction."""
        for action in actions:
            if isinstance(action, RecordAudit):
                self._audit.record(action)
            elif isinstance(action, Notify):
                self._notify(request, action)
            elif isinstance(action, Publish):
                self._host.publish(action)
            elif isinstance(action, Purge):
                self._host.purge(action)
            elif isinstance(action, ApplyPolicy):
                self._policies.apply(action, self._at, request.uploader)
                self._audit.record(policy_applied(action.policy, at=self._at, by=request.uploader, request=request.id))
                self._withdraw_superseded(request, action)

    def _withdraw_superseded(self, request: ApprovalRequest, action: ApplyPolicy) -> None:
        """Withdraw the scope's other pending changes: they were proposed against the version just
        replaced and could never apply, so they must not keep asking approvers for a decision."""
        requests = RequestStore(self._session)
        scope = action.policy.scope
        reason = f"superseded by version {action.policy.version} of the policy, approved in request {request.id}"
        for pending in requests.changing(scope.kind.value, scope.value):
            if pending.id != request.id:
                stale = requests.get(pending.id, lock=True)
                actions = stale.handle(Cancellation(at=self._at, person=request.uploader, reason=reason))
                requests.save(stale)
                self.run(stale, actions)

    def _notify(self, request: ApprovalRequest, action: Notify) -> None:
        self._outbox.notify(action)
        # An outcome also reaches the project's owners in the host, who may not be approvers.
        if action.reason is not NotifyReason.APPROVAL_NEEDED and isinstance(request.subject, Release):
            owners = self._host.owners(request.subject.project) - action.recipients
            self._outbox.tell(owners, f"request:{request.id}", action.reason.value)
