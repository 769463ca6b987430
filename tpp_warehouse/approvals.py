"""Release approvals: an upload opens a request; each approver decides with a WebAuthn assertion
whose challenge is bound to the request's manifest as it stands when they decide (invariant I2).

Usage::

    approvals = request.find_service(IApprovalService, context=None)
    approval = approvals.open_release(project, "1.0", files, uploader, now)  # from the upload hook
    ceremony = approvals.begin_decision(approval.id, "ann", Verdict.APPROVE, now)
    ...                                    # the page runs navigator.credentials.get(ceremony.options)
    approvals.decide(approval.id, "ann", Verdict.APPROVE, (ceremony.id, credential_json), now)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

from zope.interface import implementer

from tpp_core import (
    Action,
    ApplyPolicy,
    Approval,
    ApprovalRequest,
    AuditEntry,
    Cancellation,
    DecisionRefused,
    Expiry,
    FilesAdded,
    IAuditLog,
    InvalidTransition,
    IRequestStore,
    PermissionDenied,
    PersonId,
    ProjectName,
    Rejection,
    Release,
    ReleaseFile,
    RequestId,
    RequestState,
    Verdict,
    make_challenge,
)

from . import webauthn
from .challenges import Ceremony
from .interfaces import IApprovalService, IChallengeStore, IDeviceService, IEffects, IHost, IPolicyService
from .models import DecisionRecord
from .request_store import RequestStore
from .settings import TPPSettings
from .unopened import Unopened

__all__ = ["ApprovalService"]

#: The states a request ends in.
_ENDED = (RequestState.APPROVED, RequestState.REJECTED, RequestState.EXPIRED, RequestState.CANCELLED)


@implementer(IApprovalService)
class ApprovalService:
    """See the module docstring; every method works in the caller's transaction."""

    def __init__(
        self,
        *,
        requests: RequestStore,
        challenges: IChallengeStore,
        devices: IDeviceService,
        policies: IPolicyService,
        effects: IEffects,
        audit: IAuditLog,
        settings: TPPSettings,
        host: IHost,
    ) -> None:
        self._requests = requests
        self._challenges = challenges
        self._devices = devices
        self._policies = policies
        self._effects = effects
        self._audit = audit
        self._settings = settings
        self._host = host

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: the stores and services it works with, found by interface."""
        return cls(
            requests=request.find_service(IRequestStore, context=None),
            challenges=request.find_service(IChallengeStore, context=None),
            devices=request.find_service(IDeviceService, context=None),
            policies=request.find_service(IPolicyService, context=None),
            effects=request.find_service(IEffects, context=None),
            audit=request.find_service(IAuditLog, context=None),
            settings=request.registry["tpp.settings"],
            host=request.find_service(IHost, context=None),
        )

    def open_release(
        self,
        project: ProjectName,
        version: str,
        files: tuple[ReleaseFile, ...],
        uploader: PersonId,
        at: datetime,
        index: str | None = None,
    ) -> ApprovalRequest | None:
        policy = self._policies.claim_default(project, uploader, at)
        if policy is None:
            return None
        request = self._requests.verifying_release(project, version)
        if request is not None:
            actions = request.handle(FilesAdded(at=at, files=files))
            self._requests.save(request)
        else:
            request, actions = ApprovalRequest.open(
                id=RequestId(secrets.token_hex(10)),
                registry=self._settings.registry_name,
                subject=Release(project=project, version=version, files=files),
                uploader=uploader,
                policy=policy,
                at=at,
                lifetime=self._settings.request_lifetime,
            )
            self._requests.add(request, index=index)
        self._carry_out(request, actions, at)
        return request

    def get(self, request_id: RequestId) -> ApprovalRequest:
        return self._requests.get(request_id)

    def begin_decision(self, request_id: RequestId, person: PersonId, verdict: Verdict, at: datetime) -> Ceremony:
        request = self._requests.get(request_id)
        if request.state is not RequestState.VERIFYING:
            raise InvalidTransition(f"request {request_id} is {request.state.value}; there is nothing to decide")
        if person not in request.eligible:
            raise DecisionRefused(f"{person} is not an eligible approver of request {request_id}")
        devices = self._devices.usable(person, at)
        if not devices:
            raise DecisionRefused(
                f"{person} has no device that may approve yet: enrol one, or wait until a new one's cooldown ends"
            )
        ceremony_id, nonce = self._challenges.issue(purpose=verdict.value, person=person, request_id=request_id, at=at)
        challenge = make_challenge(nonce, request.manifest(person, verdict))
        options = webauthn.assertion_options(
            rp_id=self._settings.rp_id, challenge=challenge, credential_ids=[d.credential_id for d in devices]
        )
        return Ceremony(id=ceremony_id, options=options)

    def decide(
        self,
        request_id: RequestId,
        person: PersonId,
        verdict: Verdict,
        ceremony: tuple[str, str],
        at: datetime,
        reason: str = "",
    ) -> ApprovalRequest:
        ceremony_id, credential = ceremony
        request = self._requests.get(request_id, lock=True)
        # The challenge is used up before anything is verified, so an assertion counts once at most.
        nonce = self._challenges.consume(
            ceremony_id, purpose=verdict.value, person=person, request_id=request_id, at=at
        )
        device = self._devices.approving(person, webauthn.credential_id_of(credential), at)
        # Recomputed from what is stored now: a file swapped since the page was shown fails here.
        manifest = request.manifest(person, verdict)
        challenge = make_challenge(nonce, manifest)
        verified = webauthn.verify_assertion(
            credential=credential,
            challenge=challenge,
            rp_id=self._settings.rp_id,
            origins=self._settings.origins,
            public_key=device.public_key,
            sign_count=device.sign_count,
        )
        device.sign_count = verified.new_sign_count
        if verdict is Verdict.APPROVE:
            actions = request.handle(Approval(at=at, person=person, challenge=challenge))
        else:
            actions = request.handle(Rejection(at=at, person=person, challenge=challenge, reason=reason))
        self._requests.add_decision(
            request_id,
            DecisionRecord(
                person=person,
                verdict=verdict.value,
                at=at,
                credential_id=device.credential_id,
                public_key=device.public_key,
                device_name=device.name,
                manifest=manifest,
                challenge=challenge,
                client_data_json=verified.client_data_json,
                authenticator_data=verified.authenticator_data,
                signature=verified.signature,
            ),
        )
        self._requests.save(request)
        self._carry_out(request, actions, at)
        return request

    def cancel(self, request_id: RequestId, person: PersonId, at: datetime) -> ApprovalRequest:
        request = self._requests.get(request_id, lock=True)
        if not self.may_cancel(request, person):
            raise PermissionDenied(f"only the uploader or an owner may withdraw request {request_id}")
        actions = request.handle(Cancellation(at=at, person=person))
        self._requests.save(request)
        self._carry_out(request, actions, at)
        return request

    def may_cancel(self, request: ApprovalRequest, person: PersonId) -> bool:
        owners = self._host.owners(request.subject.project) if isinstance(request.subject, Release) else frozenset()
        return person == request.uploader or person in owners

    def may_read(self, request: ApprovalRequest, person: PersonId) -> bool:
        if person == request.uploader or person in request.eligible:
            return True
        if isinstance(request.subject, Release):
            return person in self._host.owners(request.subject.project)
        return bool(self._host.may_manage(person, request.subject.proposed.scope))

    def waiting_for(self, person: PersonId) -> list[ApprovalRequest]:
        return [r for r in self._requests.verifying() if person in r.waiting_for]

    def reason(self, request_id: RequestId) -> str:
        # The reason lives where the decision is recorded for good: the request's audit entries.
        ending = self._ending(request_id, (RequestState.REJECTED, RequestState.CANCELLED))
        return "" if ending is None else str(ending.data.get("reason", ""))

    def ended_at(self, request_id: RequestId) -> datetime | None:
        ending = self._ending(request_id, _ENDED)
        return None if ending is None else ending.at

    def devices_used(self, request_id: RequestId) -> dict[PersonId, str | None]:
        decisions = self._requests.record(request_id).decisions
        return {PersonId(d.person): d.device_name for d in decisions if not d.withdrawn}

    def indexes(self, request_ids: Iterable[RequestId]) -> dict[RequestId, str]:
        return self._requests.indexes(request_ids)

    def _ending(self, request_id: RequestId, states: Iterable[RequestState]) -> AuditEntry | None:
        """The request's last audit entry that ended it in one of ``states``."""
        kinds = {f"tpp:request:{state.value}" for state in states}
        endings = [entry for entry in self._audit.entries(f"request:{request_id}") if entry.kind in kinds]
        return endings[-1] if endings else None

    def history(self, project: ProjectName) -> list[ApprovalRequest]:
        return self._requests.of_project(project)

    def unopened(self, project: ProjectName, version: str, person: PersonId) -> Unopened | None:
        releases = (r.subject for r in self.history(project) if isinstance(r.subject, Release))
        newest = next((release for release in releases if release.version == version), None)
        # A decided request's files are gone from the holds (published or deleted), so what the
        # newest request does not list is waiting for a request of its own.
        covered = set() if newest is None else {(f.filename, f.sha256) for f in newest.files}
        held = [(f, who) for f, who in self._host.held(project, version) if (f.filename, f.sha256) not in covered]
        owners = self._host.owners(project)
        if not held or (person not in owners and all(who != person for _, who in held)):
            return None
        governed = bool(owners) or self._policies.governing(project) is not None
        return Unopened(project=project, version=version, files=tuple(file for file, _ in held), governed=governed)

    def waiting_for_policy(self, person: PersonId) -> list[Unopened]:
        # Only a project without an owner can lack a policy: an owner's gets the default one.
        found = (self.unopened(project, version, person) for project, version in self._host.unowned(person))
        return [unopened for unopened in found if unopened is not None and not unopened.governed]

    def expire_overdue(self, at: datetime) -> int:
        overdue = self._requests.overdue(at)
        for request in overdue:
            locked = self._requests.get(request.id, lock=True)
            if locked.state is RequestState.VERIFYING:  # not decided meanwhile
                actions = locked.handle(Expiry(at=at))
                self._requests.save(locked)
                self._carry_out(locked, actions, at)
        return len(overdue)

    def _carry_out(self, request: ApprovalRequest, actions: Iterable[Action], at: datetime) -> None:
        """Carry out the request's actions in order: an approved policy change goes to the policy
        service, which puts it in force and withdraws what it supersedes; the rest to the effects."""
        for action in actions:
            if isinstance(action, ApplyPolicy):
                self._policies.apply(request, action, at)
            else:
                self._effects.run(request, (action,), at)
