"""One scenario helper that plays the uploader, the approvers and the clock around one request.

It stands where a registry adapter would: it opens the request, makes each approver's challenge from
the request's own manifest (what a WebAuthn assertion would sign), feeds the events and keeps every
action returned, so tests read like the journey they check::

    s = Scenario.release(brief_policy(), uploader="lead")
    s.approve("lead"); s.approve("cora"); s.approve("dave")
    assert s.request.state is RequestState.APPROVED
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from tpp_core import (
    Action,
    Approval,
    ApprovalGroup,
    ApprovalRequest,
    Cancellation,
    Expiry,
    FilesAdded,
    PersonId,
    Policy,
    PolicyChange,
    ProjectName,
    Rejection,
    Release,
    ReleaseFile,
    RequestId,
    Scope,
    Sha256,
    Subject,
    Verdict,
    make_challenge,
)

#: Every core test runs from this instant; nothing reads the wall clock.
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LIFETIME = timedelta(days=7)


def sha(n: int) -> str:
    """A valid, distinct sha256 hex digest per ``n``."""
    return f"{n:064x}"


def wheel(name: str = "acme-1.0-py3-none-any.whl", n: int = 1, size: int = 1000) -> ReleaseFile:
    return ReleaseFile(filename=name, sha256=Sha256(sha(n)), size=size)


def group(
    name: str, *members: str, seats: int = 1, excluded: tuple[str, ...] = (), no_uploader: bool = False
) -> ApprovalGroup:
    return ApprovalGroup(
        name=name,
        members=frozenset(PersonId(m) for m in members),
        seats=seats,
        excluded=frozenset(PersonId(m) for m in excluded),
        exclude_uploader=no_uploader,
    )


def brief_policy(version: int = 1) -> Policy:
    """The brief's example: the lead; a core-team member other than the lead; a teammate at the lead's
    company other than the lead. Cora is in both core-team and the company."""
    return Policy(
        scope=Scope.project("acme"),
        version=version,
        groups=(
            group("lead", "lead"),
            group("core-team", "lead", "cora", "bob", excluded=("lead",)),
            group("company", "lead", "cora", "dave", excluded=("lead",)),
        ),
    )


class Scenario:
    """A request, the time, and every action it returned so far."""

    def __init__(self, subject: Subject, policy: Policy, uploader: str) -> None:
        self.now: datetime = T0
        self.request, self.opened = ApprovalRequest.open(
            id=RequestId("r1"),
            registry="https://registry.example",
            subject=subject,
            uploader=PersonId(uploader),
            policy=policy,
            at=self.now,
            lifetime=LIFETIME,
        )
        self.actions: list[Action] = list(self.opened)

    @classmethod
    def release(cls, policy: Policy, uploader: str = "ci", files: tuple[ReleaseFile, ...] = (wheel(),)) -> Scenario:
        return cls(Release(project=ProjectName(policy.scope.value), version="1.0", files=files), policy, uploader)

    @classmethod
    def policy_change(cls, current: Policy, proposed: Policy, proposer: str) -> Scenario:
        return cls(PolicyChange(proposed=proposed), current, proposer)

    def tick(self, delta: timedelta = timedelta(minutes=1)) -> None:
        self.now += delta

    def challenge(self, person: str, verdict: Verdict) -> bytes:
        """What the approver's authenticator signs: a fresh nonce and the current manifest's digest."""
        return make_challenge(secrets.token_bytes(32), self.request.manifest(PersonId(person), verdict))

    def _feed(self, event: Approval | Rejection | FilesAdded | Expiry | Cancellation) -> list[Action]:
        actions = self.request.handle(event)
        self.actions.extend(actions)
        return actions

    def approve(self, person: str, challenge: bytes | None = None) -> list[Action]:
        signed = self.challenge(person, Verdict.APPROVE) if challenge is None else challenge
        return self._feed(Approval(at=self.now, person=PersonId(person), challenge=signed))

    def reject(self, person: str, reason: str = "") -> list[Action]:
        signed = self.challenge(person, Verdict.REJECT)
        return self._feed(Rejection(at=self.now, person=PersonId(person), challenge=signed, reason=reason))

    def add_files(self, *files: ReleaseFile) -> list[Action]:
        return self._feed(FilesAdded(at=self.now, files=files))

    def expire(self) -> list[Action]:
        return self._feed(Expiry(at=self.now))

    def cancel(self, person: str) -> list[Action]:
        return self._feed(Cancellation(at=self.now, person=PersonId(person)))
