"""Carrying out what a request says must happen, in the transaction that changed it.

Audit entries, outbox rows, publishing and purging all commit together with the request's new state,
or not at all (invariants I7, I8). Putting an approved policy in force is the policy service's
(:meth:`~.interfaces.IPolicyService.apply`), because doing so withdraws the changes it supersedes;
the approval service, which decides, hands that action there.

Usage::

    effects = Effects(audit=DatabaseAuditLog(session), notifier=Outbox(session), host=host)
    effects.run(request, request.handle(event), at)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self, assert_never

from zope.interface import implementer

from tpp_core import (
    Action,
    ApplyPolicy,
    ApprovalRequest,
    IAuditLog,
    INotifier,
    Notify,
    NotifyReason,
    Publish,
    Purge,
    RecordAudit,
    Release,
)

from .interfaces import IEffects, IHost

__all__ = ["Effects"]


@implementer(IEffects)
class Effects:
    """Runs a request's actions against the audit log, the outbox and the host."""

    def __init__(self, *, audit: IAuditLog, notifier: INotifier, host: IHost) -> None:
        self._audit = audit
        self._notifier = notifier
        self._host = host

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: the audit log, the outbox and the host, found by interface."""
        return cls(
            audit=request.find_service(IAuditLog, context=None),
            notifier=request.find_service(INotifier, context=None),
            host=request.find_service(IHost, context=None),
        )

    def run(self, request: ApprovalRequest, actions: Iterable[Action], at: datetime) -> None:
        """Carry out ``actions``, in order; any failure aborts the caller's transaction.

        :raises TypeError: for an :class:`~tpp_core.ApplyPolicy`, which is the policy service's.
        """
        for action in actions:
            match action:
                case RecordAudit():
                    self._audit.record(action)
                case Notify():
                    self._notify(request, action, at)
                case Publish():
                    self._host.publish(action)
                case Purge():
                    self._host.purge(action)
                case ApplyPolicy():
                    raise TypeError(f"{action!r} is carried out by IPolicyService.apply, not by Effects")
                case _:
                    assert_never(action)

    def _notify(self, request: ApprovalRequest, action: Notify, at: datetime) -> None:
        self._notifier.notify(action, at)
        # An outcome also reaches the project's owners in the host, who may not be approvers.
        if action.reason is not NotifyReason.APPROVAL_NEEDED and isinstance(request.subject, Release):
            owners = self._host.owners(request.subject.project) - action.recipients
            self._notifier.tell(owners, f"request:{request.id}", action.reason.value, at)
