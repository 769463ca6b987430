"""Policies: a project's first upload gives it a default policy (its owners approve) unless a prefix
policy governs it; a scope without a policy gets its first one from someone who manages it; every
later change is a request approved under the policy in force (invariant I5).

Usage::

    policies = request.find_service(IPolicyService, context=None)
    policies.claim_default("acme", "ann", now)   # the policy in force, or the new "(Default)" one
    policies.propose("ann", Policy(scope=Scope.project("acme"), version=1, groups=...), now)  # -> None
    policies.propose("ann", <version 2>, now)   # -> the id of a policy-change request to approve
    policies.check("ann", <version 3>)          # -> the policy in force (v2); raises as propose would
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Self

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import (
    ApplyPolicy,
    ApprovalRequest,
    Cancellation,
    IAuditLog,
    InvalidPolicy,
    InvalidTransition,
    IPolicyStore,
    IRequestStore,
    PermissionDenied,
    PersonId,
    Policy,
    PolicyChange,
    ProjectName,
    RecordAudit,
    RequestId,
    Scope,
    default_policy,
    select_policy,
)

from .interfaces import IEffects, IHost, IInvitationService, IPolicyService
from .invitations import require_accepted
from .models import PolicyRecord
from .request_store import RequestStore
from .settings import TPPSettings

__all__ = ["PolicyService", "PolicyStore"]


def _applied(policy: Policy, *, at: datetime, by: PersonId, request: RequestId | None) -> RecordAudit:
    """The audit entry of a policy version coming into force (``request`` approved it, if any)."""
    data = {"version": policy.version, "policy": policy.to_dict(), "approved_by": request}
    return RecordAudit(at=at, kind="tpp:policy:applied", actor=by, subject=f"policy:{policy.scope}", data=data)


@implementer(IPolicyStore)
class PolicyStore:
    """Every version of every scope's policy in ``tpp_policies``; the highest version is in force."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def policies(self) -> list[Policy]:
        """The policy in force for every scope."""
        newest = (
            select(PolicyRecord.scope_kind, PolicyRecord.scope_value, func.max(PolicyRecord.version).label("version"))
            .group_by(PolicyRecord.scope_kind, PolicyRecord.scope_value)
            .subquery()
        )
        query = select(PolicyRecord).join(
            newest,
            (PolicyRecord.scope_kind == newest.c.scope_kind)
            & (PolicyRecord.scope_value == newest.c.scope_value)
            & (PolicyRecord.version == newest.c.version),
        )
        return [Policy.from_dict(record.document) for record in self._session.scalars(query)]

    def record(self, scope: Scope, version: int | None = None) -> PolicyRecord | None:
        """The row of ``version`` of the scope's policy, or of the version in force."""
        query = select(PolicyRecord).where(
            PolicyRecord.scope_kind == scope.kind.value, PolicyRecord.scope_value == scope.value
        )
        if version is not None:
            query = query.where(PolicyRecord.version == version)
        return self._session.scalars(query.order_by(PolicyRecord.version.desc()).limit(1)).first()

    def versions(self, scope: Scope) -> list[PolicyRecord]:
        """Every version of the scope's policy, newest first."""
        query = select(PolicyRecord).where(
            PolicyRecord.scope_kind == scope.kind.value, PolicyRecord.scope_value == scope.value
        )
        return list(self._session.scalars(query.order_by(PolicyRecord.version.desc())))

    def add(self, policy: Policy, *, by: PersonId, at: datetime, request_id: RequestId | None) -> PolicyRecord:
        """Store ``policy`` as its scope's newest version. Two writers of one version collide on the
        unique (scope, version) constraint, so at most one of them commits."""
        record = PolicyRecord(
            scope_kind=policy.scope.kind.value,
            scope_value=policy.scope.value,
            version=policy.version,
            document=policy.to_dict(),
            created_at=at,
            created_by=by,
            approved_by_request=request_id,
        )
        self._session.add(record)
        self._session.flush()
        return record

    def apply(self, action: ApplyPolicy, at: datetime, by: PersonId) -> None:
        """Put an approved change in force, unless another change was applied since it was proposed.

        :raises InvalidTransition: if the scope is no longer at ``action.replaces_version``.
        """
        current = self.record(action.policy.scope)
        if current is None or current.version != action.replaces_version:
            found = "none" if current is None else f"v{current.version}"
            raise InvalidTransition(
                f"policy {action.policy.scope} changed since this request was opened"
                f" (expected v{action.replaces_version}, found {found}); propose the change again"
            )
        self.add(action.policy, by=by, at=at, request_id=action.request_id)


@implementer(IPolicyService)
class PolicyService:
    """Reading policies, proposing them, and putting approved changes in force: see the module docstring."""

    def __init__(
        self,
        *,
        store: PolicyStore,
        requests: RequestStore,
        invitations: IInvitationService,
        effects: IEffects,
        audit: IAuditLog,
        settings: TPPSettings,
        host: IHost,
    ) -> None:
        self._store = store
        self._requests = requests
        self._invitations = invitations
        self._effects = effects
        self._audit = audit
        self._settings = settings
        self._host = host

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: the stores and services it works with, found by interface."""
        return cls(
            store=request.find_service(IPolicyStore, context=None),
            requests=request.find_service(IRequestStore, context=None),
            invitations=request.find_service(IInvitationService, context=None),
            effects=request.find_service(IEffects, context=None),
            audit=request.find_service(IAuditLog, context=None),
            settings=request.registry["tpp.settings"],
            host=request.find_service(IHost, context=None),
        )

    def current(self, scope: Scope) -> Policy | None:
        record = self._store.record(scope)
        return None if record is None else Policy.from_dict(record.document)

    def governing(self, project: ProjectName) -> Policy | None:
        return select_policy(self._store.policies(), project)

    def naming(self, person: PersonId) -> list[Policy]:
        policies = [p for p in self._store.policies() if any(person in g.members for g in p.groups)]
        return sorted(policies, key=lambda p: (p.scope.kind.value, p.scope.value))

    def versions(self, scope: Scope) -> list[PolicyRecord]:
        return self._store.versions(scope)

    def pending(self, scope: Scope) -> list[ApprovalRequest]:
        return self._requests.changing(scope)

    def claim_default(self, project: ProjectName, by: PersonId, at: datetime) -> Policy | None:
        """The policy governing ``project``; if there is none, its default policy (its owners in the
        host approve), stored and audited now. None only if the host names no owner (I5).

        Called as a gated project's first upload is seen, so no project is ever without a policy.
        """
        governing = self.governing(project)
        owners = self._host.owners(project)
        if governing is not None or not owners:
            return governing
        policy = default_policy(project, owners)
        self._store.add(policy, by=by, at=at, request_id=None)
        self._audit.record(_applied(policy, at=at, by=by, request=None))
        return policy

    def apply(self, approved: ApprovalRequest, action: ApplyPolicy, at: datetime) -> None:
        """Put the change ``approved`` in force, then withdraw the scope's other pending changes: they
        were proposed against the version just replaced and could never apply, so they must not keep
        asking approvers for a decision.

        :raises InvalidTransition: if another change was applied since this one was proposed.
        """
        self._store.apply(action, at, approved.uploader)
        self._audit.record(_applied(action.policy, at=at, by=approved.uploader, request=approved.id))
        reason = f"superseded by version {action.policy.version} of the policy, approved in request {approved.id}"
        for pending in self._requests.changing(action.policy.scope):
            if pending.id != approved.id:
                stale = self._requests.get(pending.id, lock=True)
                actions = stale.handle(Cancellation(at=at, person=approved.uploader, reason=reason))
                self._requests.save(stale)
                self._effects.run(stale, actions, at)

    def check(self, person: PersonId, policy: Policy) -> Policy | None:
        if not self._host.may_manage(person, policy.scope):
            raise PermissionDenied(f"{person} may not set the policy of {policy.scope}")
        in_force = self.current(policy.scope)
        accepted = self._invitations.accepted(policy.scope)
        require_accepted(policy, proposer=person, current=in_force, accepted=accepted)
        if in_force is None and policy.version != 1:
            raise InvalidPolicy(f"the first policy of {policy.scope} must be version 1, not {policy.version}")
        if in_force is not None and policy.version != in_force.version + 1:
            # The core refuses it too when the request opens; said here, a draft hears it before.
            raise InvalidPolicy(
                f"a change to policy {in_force.scope} v{in_force.version} must propose v{in_force.version + 1}"
                f" of the same scope, not {policy.scope} v{policy.version}"
            )
        return in_force

    def propose(self, person: PersonId, policy: Policy, at: datetime) -> RequestId | None:
        in_force = self.check(person, policy)
        if in_force is None:
            self._store.add(policy, by=person, at=at, request_id=None)
            self._audit.record(_applied(policy, at=at, by=person, request=None))
            return None
        request, actions = ApprovalRequest.open(
            id=RequestId(secrets.token_hex(10)),
            registry=self._settings.registry_name,
            subject=PolicyChange(proposed=policy),
            uploader=person,
            policy=in_force,
            at=at,
            lifetime=self._settings.request_lifetime,
        )
        self._requests.add(request)
        self._effects.run(request, actions, at)
        return request.id
