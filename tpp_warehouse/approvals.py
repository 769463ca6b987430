"""Release approvals: an upload opens a request; each approver decides with a WebAuthn assertion
whose challenge is bound to the request's manifest as it stands when they decide (invariant I2).

Usage::

    approvals = ApprovalService(session, settings, host)
    request = approvals.open_release(project, "1.0", files, uploader, now)   # from the upload hook
    ceremony = approvals.begin_decision(request.id, "ann", Verdict.APPROVE, now)
    ...                                    # the page runs navigator.credentials.get(ceremony.options)
    approvals.decide(request.id, "ann", Verdict.APPROVE, (ceremony.id, credential_json), now)
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import (
    Approval,
    ApprovalRequest,
    Cancellation,
    DecisionRefused,
    Expiry,
    FilesAdded,
    InvalidTransition,
    PermissionDenied,
    PersonId,
    ProjectName,
    Rejection,
    Release,
    ReleaseFile,
    RequestId,
    RequestState,
    Verdict,
    check_can_approve,
    make_challenge,
)

from . import webauthn
from .audit import DatabaseAuditLog
from .challenges import Ceremony, ChallengeStore
from .devices import DeviceService, as_core_device
from .effects import Effects
from .interfaces import IApprovalService, IHost
from .models import DecisionRecord
from .policies import PolicyService, PolicyStore
from .request_store import RequestStore
from .service import Service
from .settings import TPPSettings

__all__ = ["ApprovalService"]


@implementer(IApprovalService)
class ApprovalService(Service):
    """See the module docstring; every method works in the caller's transaction."""

    def __init__(self, session: Session, settings: TPPSettings, host: IHost) -> None:
        super().__init__(session, settings, host)
        self._requests = RequestStore(session)
        self._policies = PolicyStore(session)
        self._challenges = ChallengeStore(session, lifetime=settings.challenge_lifetime)
        self._devices = DeviceService(session, settings, host)

    def open_release(
        self, project: ProjectName, version: str, files: tuple[ReleaseFile, ...], uploader: PersonId, at: datetime
    ) -> ApprovalRequest | None:
        policy = PolicyService(self._session, self._settings, self._host).claim_default(project, uploader, at)
        if policy is None:
            return None
        open_record = self._requests.verifying_release(project, version)
        if open_record is not None:
            request = self._requests.get(RequestId(open_record.id))
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
            pinned = self._policies.record(policy.scope, policy.version)
            assert pinned is not None, "the governing policy was just read from the store"
            self._requests.add(request, pinned)
        self._effects(at).run(request, actions)
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
        device = self._devices.by_credential(person, webauthn.credential_id_of(credential))
        if device is None:
            raise DecisionRefused("this security key or passkey is not one of your enrolled devices")
        check_can_approve(as_core_device(device), at=at, cooldown=self._settings.device_cooldown)
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
                manifest=manifest,
                challenge=challenge,
                client_data_json=verified.client_data_json,
                authenticator_data=verified.authenticator_data,
                signature=verified.signature,
            ),
        )
        self._requests.save(request)
        self._effects(at).run(request, actions)
        return request

    def cancel(self, request_id: RequestId, person: PersonId, at: datetime) -> ApprovalRequest:
        request = self._requests.get(request_id, lock=True)
        if not self.may_cancel(request, person):
            raise PermissionDenied(f"only the uploader or an owner may withdraw request {request_id}")
        actions = request.handle(Cancellation(at=at, person=person))
        self._requests.save(request)
        self._effects(at).run(request, actions)
        return request

    def may_cancel(self, request: ApprovalRequest, person: PersonId) -> bool:
        owners = self._host.owners(request.subject.project) if isinstance(request.subject, Release) else frozenset()
        return person == request.uploader or person in owners

    def waiting_for(self, person: PersonId) -> list[ApprovalRequest]:
        return [r for r in self._requests.verifying() if person in r.waiting_for]

    def reason(self, request_id: RequestId) -> str:
        # The reason lives where the decision is recorded for good: the request's audit entries.
        endings = {f"tpp:request:{state.value}" for state in (RequestState.REJECTED, RequestState.CANCELLED)}
        reasons = [
            str(entry.data.get("reason", ""))
            for entry in DatabaseAuditLog(self._session).entries(f"request:{request_id}")
            if entry.kind in endings
        ]
        return reasons[-1] if reasons else ""

    def history(self, project: ProjectName) -> list[ApprovalRequest]:
        return self._requests.of_project(project)

    def expire_overdue(self, at: datetime) -> int:
        overdue = self._requests.overdue(at)
        for request in overdue:
            locked = self._requests.get(request.id, lock=True)
            if locked.state is RequestState.VERIFYING:  # not decided meanwhile
                actions = locked.handle(Expiry(at=at))
                self._requests.save(locked)
                self._effects(at).run(locked, actions)
        return len(overdue)

    def _effects(self, at: datetime) -> Effects:
        return Effects(self._session, self._host, self._policies, at=at)
