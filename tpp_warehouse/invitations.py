"""Invitations: nobody is put in charge of a release by someone else's say-so.

A policy may name a person only once that person has accepted an invitation to approve for its
scope. Otherwise an owner could name a co-approver who never agreed (and ignores the pushes), or a
typo'd user name, and the scope would be stuck; worse, an attacker controlling one owner account could
"add" an accomplice account silently. The proposer and the members of the policy in force are exempt:
they have already shown up.

Usage::

    invitations = request.find_service(IInvitationService, context=None)
    record = invitations.invite("ann", Scope.project("acme"), "bob", now)   # bob is told
    invitations.accept("bob", record.id, now)                               # bob may now be named
    invitations.accepted(Scope.project("acme"))                            # -> frozenset({"bob"})
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from sqlalchemy import select
from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import (
    IAuditLog,
    INotifier,
    InvalidInput,
    InvalidPolicy,
    NotFound,
    PermissionDenied,
    PersonId,
    Policy,
    RecordAudit,
    Scope,
    ScopeKind,
)

from .db import serialize
from .interfaces import IHost, IInvitationService
from .models import InvitationRecord

__all__ = ["InvitationService", "require_accepted"]


@implementer(IInvitationService)
class InvitationService:
    """Inviting, accepting and declining: see the module docstring."""

    def __init__(self, session: Session, *, audit: IAuditLog, notifier: INotifier, host: IHost) -> None:
        self._session = session
        self._audit_log = audit
        self._notifier = notifier
        self._host = host

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: TPP's session, and the collaborators found by interface."""
        return cls(
            request.tpp_db,
            audit=request.find_service(IAuditLog, context=None),
            notifier=request.find_service(INotifier, context=None),
            host=request.find_service(IHost, context=None),
        )

    def invite(self, person: PersonId, scope: Scope, invitee: PersonId, at: datetime) -> InvitationRecord:
        if not self._host.may_manage(person, scope):
            raise PermissionDenied(f"{person} may not invite approvers for {scope}")
        if invitee == person:
            raise InvalidInput(f"{person} needs no invitation to approve for {scope}: you may name yourself")
        # Two owners inviting the same person at once: the second waits and finds the first's row.
        serialize(self._session, f"invitations:{scope}")
        existing = self._find(scope, invitee)
        if existing is not None:
            return existing
        record = InvitationRecord(
            scope_kind=scope.kind.value,
            scope_value=scope.value,
            person=invitee,
            invited_by=person,
            invited_at=at,
            accepted_at=None,
        )
        self._session.add(record)
        self._session.flush()
        self._audit(at, "tpp:invitation:sent", person, scope, invitee)
        self._notifier.tell({invitee}, f"invitation:{record.id}", "invited", at)
        return record

    def accept(self, person: PersonId, invitation_id: int, at: datetime) -> InvitationRecord:
        record = self._own(person, invitation_id)
        if record.accepted_at is None:
            record.accepted_at = at
            self._session.flush()
            self._audit(at, "tpp:invitation:accepted", person, _scope(record), person)
        return record

    def decline(self, person: PersonId, invitation_id: int, at: datetime) -> None:
        record = self._own(person, invitation_id)
        self._audit(at, "tpp:invitation:declined", person, _scope(record), person)
        self._session.delete(record)
        self._session.flush()

    def pending_for(self, person: PersonId) -> list[InvitationRecord]:
        query = select(InvitationRecord).where(
            InvitationRecord.person == person, InvitationRecord.accepted_at.is_(None)
        )
        return list(self._session.scalars(query.order_by(InvitationRecord.invited_at, InvitationRecord.id)))

    def of_scope(self, scope: Scope) -> list[InvitationRecord]:
        query = select(InvitationRecord).where(
            InvitationRecord.scope_kind == scope.kind.value, InvitationRecord.scope_value == scope.value
        )
        return list(self._session.scalars(query.order_by(InvitationRecord.person)))

    def accepted(self, scope: Scope) -> frozenset[PersonId]:
        return frozenset(PersonId(r.person) for r in self.of_scope(scope) if r.accepted_at is not None)

    def _find(self, scope: Scope, person: PersonId) -> InvitationRecord | None:
        query = select(InvitationRecord).where(
            InvitationRecord.scope_kind == scope.kind.value,
            InvitationRecord.scope_value == scope.value,
            InvitationRecord.person == person,
        )
        return self._session.scalars(query).first()

    def _own(self, person: PersonId, invitation_id: int) -> InvitationRecord:
        record = self._session.get(InvitationRecord, invitation_id)
        # Someone else's invitation is as unknown as a missing one: ids reveal nothing.
        if record is None or record.person != person:
            raise NotFound(f"{person} has no invitation {invitation_id}")
        return record

    def _audit(self, at: datetime, kind: str, actor: PersonId, scope: Scope, invitee: PersonId) -> None:
        self._audit_log.record(
            RecordAudit(at=at, kind=kind, actor=actor, subject=f"policy:{scope}", data={"person": invitee})
        )


def require_accepted(
    policy: Policy, *, proposer: PersonId, current: Policy | None, accepted: frozenset[PersonId]
) -> None:
    """Refuse ``policy`` if it seats someone who has not agreed to approve for its scope.

    :raises InvalidPolicy: naming everyone who still has to accept an invitation.
    """
    known = {proposer} | accepted
    if current is not None:
        known |= {member for group in current.groups for member in group.members}
    strangers = sorted({member for group in policy.groups for member in group.members} - known)
    if strangers:
        raise InvalidPolicy(
            f"{', '.join(strangers)} {'has' if len(strangers) == 1 else 'have'} not accepted an invitation to"
            f" approve for {policy.scope}: invite them on this page, and name them once they have accepted"
        )


def _scope(record: InvitationRecord) -> Scope:
    return Scope(kind=ScopeKind(record.scope_kind), value=record.scope_value)
