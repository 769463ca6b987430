"""A registry at the service level: people with authenticators, a clock, and TPP's services on one
database session, wired by hand as ``tpp_warehouse.includeme`` wires them by interface, so service
tests read like the journeys they check::

    registry = Registry(session)
    registry.enrol("lead", "cora", "bob", "dave")
    registry.set_policy(brief_policy())
    request = registry.upload("acme", "1.0", wheel())
    registry.approve(request.id, "lead")
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tests.common.authenticator import SoftAuthenticator
from tests.common.clock import FixedClock
from tests.common.host import MemoryHost
from tpp_core import ApprovalRequest, PersonId, Policy, ProjectName, ReleaseFile, RequestId, Scope, Verdict
from tpp_warehouse.approvals import ApprovalService
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.challenges import ChallengeStore
from tpp_warehouse.devices import DeviceService
from tpp_warehouse.effects import Effects
from tpp_warehouse.invitations import InvitationService
from tpp_warehouse.models import DeviceRecord
from tpp_warehouse.notifications import Outbox
from tpp_warehouse.policies import PolicyService, PolicyStore
from tpp_warehouse.request_store import RequestStore
from tpp_warehouse.settings import TPPSettings

ORIGIN = "http://localhost:6543"
SETTINGS = TPPSettings(
    rp_id="localhost",
    origins=(ORIGIN,),
    registry_name="https://registry.example",
    device_cooldown=timedelta(hours=24),
)


class Registry:
    """TPP's services over one session, with one software authenticator per person."""

    def __init__(
        self,
        session: Session,
        settings: TPPSettings = SETTINGS,
        host: MemoryHost | None = None,
        clock: FixedClock | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.host = host = host or MemoryHost()
        self.clock = clock or FixedClock()
        audit, notifier = DatabaseAuditLog(session), Outbox(session)
        requests, policies = RequestStore(session), PolicyStore(session)
        challenges = ChallengeStore(session, lifetime=settings.challenge_lifetime)
        effects = Effects(audit=audit, notifier=notifier, host=host)
        self.devices = DeviceService(
            session,
            challenges=challenges,
            policies=policies,
            audit=audit,
            notifier=notifier,
            settings=settings,
            host=host,
        )
        self.invitations = InvitationService(session, audit=audit, notifier=notifier, host=host)
        self.policies = PolicyService(
            store=policies,
            requests=requests,
            invitations=self.invitations,
            effects=effects,
            audit=audit,
            settings=settings,
            host=host,
        )
        self.approvals = ApprovalService(
            requests=requests,
            challenges=challenges,
            devices=self.devices,
            policies=self.policies,
            effects=effects,
            audit=audit,
            settings=settings,
            host=host,
        )
        self.authenticators: dict[str, SoftAuthenticator] = {}

    @property
    def now(self) -> datetime:
        """The registry's time: its clock's."""
        return self.clock.now()

    def tick(self, delta: timedelta) -> None:
        self.clock.tick(delta)

    def enrol(self, *people: str, ready: bool = True) -> list[DeviceRecord]:
        """Give each person a first device; ``ready`` moves the clock past the cooldown."""
        records = []
        for person in people:
            authenticator = self.authenticators.setdefault(person, SoftAuthenticator())
            registration, _ = self.devices.begin_enrolment(PersonId(person), self.now)
            credential = json.dumps(authenticator.create(json.loads(registration.options), ORIGIN))
            records.append(
                self.devices.finish_enrolment(PersonId(person), "phone", (registration.id, credential), None, self.now)
            )
        if ready:
            self.tick(self.settings.device_cooldown)
        return records

    def invite(self, scope: Scope, *people: str, by: str = "lead") -> None:
        """Invite each person to approve for ``scope``, and have them accept."""
        for person in people:
            record = self.invitations.invite(PersonId(by), scope, PersonId(person), self.now)
            self.invitations.accept(PersonId(person), record.id, self.now)

    def set_policy(self, policy: Policy, by: str = "lead") -> RequestId | None:
        """Propose ``policy``, first inviting its members (who accept) as its owners would."""
        members = {member for group in policy.groups for member in group.members} - {by}
        self.invite(policy.scope, *sorted(members), by=by)
        return self.policies.propose(PersonId(by), policy, self.now)

    def upload(
        self, project: str, version: str, *files: ReleaseFile, uploader: str = "ci", index: str | None = None
    ) -> ApprovalRequest | None:
        """Open (or extend) the release's request as a host's upload does; ``index`` as devpi names it."""
        return self.approvals.open_release(ProjectName(project), version, files, PersonId(uploader), self.now, index)

    def sign(self, request_id: RequestId, person: str, verdict: Verdict) -> tuple[str, str]:
        """Run the decision ceremony on the person's authenticator; returns (ceremony id, credential)."""
        ceremony = self.approvals.begin_decision(request_id, PersonId(person), verdict, self.now)
        assertion = self.authenticators[person].get(json.loads(ceremony.options), ORIGIN)
        return ceremony.id, json.dumps(assertion)

    def approve(self, request_id: RequestId, person: str) -> ApprovalRequest:
        signed = self.sign(request_id, person, Verdict.APPROVE)
        return self.approvals.decide(request_id, PersonId(person), Verdict.APPROVE, signed, self.now)

    def reject(self, request_id: RequestId, person: str, reason: str = "") -> ApprovalRequest:
        signed = self.sign(request_id, person, Verdict.REJECT)
        return self.approvals.decide(request_id, PersonId(person), Verdict.REJECT, signed, self.now, reason)
