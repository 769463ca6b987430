"""ApprovalRequest: feed it events, carry out the actions it returns.

A request pins the policy version it was opened under, refuses anything its state table does not
allow, and checks every input before changing anything, so a refused event leaves it exactly as it
was (and a request that is not ``APPROVED`` never publishes).

>>> from datetime import datetime, timedelta, timezone
>>> from tpp_core.policy import ApprovalGroup, Policy, Scope
>>> from tpp_core.subjects import Release, ReleaseFile
>>> from tpp_core.manifest import make_challenge
>>> policy = Policy(scope=Scope.project("acme"), version=1,
...                 groups=(ApprovalGroup(name="maintainers", members=frozenset({"ann", "bob"})),))
>>> release = Release(project="acme", version="1.0",
...                   files=(ReleaseFile(filename="acme-1.0.tar.gz", sha256="ab" * 32, size=10),))
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> request, actions = ApprovalRequest.open(id="r1", registry="https://pypi.example", subject=release,
...                                         uploader="ci", policy=policy, at=t0, lifetime=timedelta(days=7))
>>> [type(a).__name__ for a in actions]
['RecordAudit', 'Notify']
>>> challenge = make_challenge(bytes(32), request.manifest("bob", Verdict.APPROVE))
>>> actions = request.handle(Approval(at=t0, person="bob", challenge=challenge))
>>> request.state, [type(a).__name__ for a in actions]
(<RequestState.APPROVED: 'approved'>, ['RecordAudit', 'RecordAudit', 'Publish', 'Notify'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, assert_never

from .actions import Action, ApplyPolicy, Notify, NotifyReason, Publish, Purge, RecordAudit
from .errors import DecisionRefused, InvalidInput
from .events import Approval, Cancellation, Event, Expiry, FilesAdded, QuorumReached, Rejection
from .identifiers import PersonId, RequestId, person_id, request_id
from .manifest import Verdict, build_manifest, check_challenge
from .policy import Policy
from .quorum import Quorum, evaluate
from .states import RequestState, next_state
from .subjects import PolicyChange, Release, Subject

__all__ = ["ApprovalRequest", "Decision"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A person's verified verdict, with the challenge their assertion signed (kept for re-checking)."""

    person: PersonId
    verdict: Verdict
    at: datetime
    challenge: bytes


class ApprovalRequest:
    """The approval of one subject (a release, or a policy change) under one pinned policy.

    Adapters build it with :meth:`open`, or rebuild a stored one with the constructor, then call
    :meth:`handle` for each event and persist the request's attributes afterwards.
    """

    def __init__(
        self,
        *,
        id: RequestId,
        registry: str,
        subject: Subject,
        uploader: PersonId,
        policy: Policy,
        opened_at: datetime,
        expires_at: datetime,
        state: RequestState = RequestState.VERIFYING,
        decisions: Sequence[Decision] = (),
    ) -> None:
        self.id = request_id(id)
        if not isinstance(registry, str) or not registry:
            raise InvalidInput("a request needs the registry's name")
        self.registry = registry
        self.uploader = person_id(uploader)
        self.policy = policy
        if opened_at.utcoffset() is None or expires_at <= opened_at:
            raise InvalidInput("a request needs a timezone-aware opening time before its expiry")
        self.opened_at = opened_at
        self.expires_at = expires_at
        if isinstance(subject, Release):
            if not policy.scope.matches(subject.project):
                raise InvalidInput(f"policy for {policy.scope} does not govern project {subject.project}")
        elif isinstance(subject, PolicyChange):
            proposed = subject.proposed
            if proposed.scope != policy.scope or proposed.version != policy.version + 1:
                raise InvalidInput(
                    f"a change to policy {policy.scope} v{policy.version} must propose v{policy.version + 1}"
                    f" of the same scope, not {proposed.scope} v{proposed.version}"
                )
        else:
            raise InvalidInput(f"unknown request subject: {subject!r}")
        self.subject: Subject = subject
        self._state = RequestState(state)
        self._decisions = tuple(decisions)

    @classmethod
    def open(
        cls,
        *,
        id: RequestId,
        registry: str,
        subject: Subject,
        uploader: PersonId,
        policy: Policy,
        at: datetime,
        lifetime: timedelta,
    ) -> tuple[ApprovalRequest, list[Action]]:
        """Open a request; returns it and the actions to run (audit it, notify the approvers).

        :raises InvalidInput: if the subject does not fit the policy or the lifetime is not positive.
        """
        if lifetime <= timedelta(0):
            raise InvalidInput(f"a request lifetime must be positive, got {lifetime}")
        request = cls(
            id=id,
            registry=registry,
            subject=subject,
            uploader=uploader,
            policy=policy,
            opened_at=at,
            expires_at=at + lifetime,
        )
        expiry = request.expires_at.isoformat()
        opened = request._audit(
            at, "opened", uploader, policy_version=policy.version, expires_at=expiry, **request._facts()
        )
        return request, [opened, request._notify(NotifyReason.APPROVAL_NEEDED, request.waiting_for)]

    @property
    def state(self) -> RequestState:
        """The current state; only :data:`RequestState.APPROVED` may be published."""
        return self._state

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """The verified decisions that count, in the order they arrived."""
        return self._decisions

    @property
    def approvers(self) -> tuple[PersonId, ...]:
        """Who approved, in order."""
        return tuple(d.person for d in self._decisions if d.verdict is Verdict.APPROVE)

    @property
    def quorum(self) -> Quorum:
        """The seat assignment of the approvals so far, under the pinned policy."""
        return evaluate(self.policy, uploader=self.uploader, approvers=self.approvers)

    @property
    def eligible(self) -> frozenset[PersonId]:
        """Everyone who may approve or reject this request."""
        return frozenset(p for p in self.policy.people if self.policy.groups_of(p, self.uploader))

    @property
    def waiting_for(self) -> frozenset[PersonId]:
        """Eligible people who have not decided yet."""
        return self.eligible.difference(d.person for d in self._decisions)

    @property
    def involved(self) -> frozenset[PersonId]:
        """Everyone with a stake in the outcome: the eligible approvers and the uploader."""
        return self.eligible | {self.uploader}

    def manifest(self, person: PersonId, verdict: Verdict) -> bytes:
        """The manifest ``person`` signs to give ``verdict`` on this request as it stands now."""
        return build_manifest(
            registry=self.registry,
            request_id=self.id,
            policy_version=self.policy.version,
            subject=self.subject,
            approver=person,
            verdict=verdict,
        )

    def handle(self, event: Event) -> list[Action]:
        """Apply ``event``; returns the actions to carry out, in order, in the same transaction.

        :raises InvalidTransition: if the state does not accept the event.
        :raises DecisionRefused: if the person may not decide now (not eligible, twice, too late).
        :raises ChallengeMismatch: if the assertion was made for another manifest.
        :raises InvalidInput: if the event does not fit this request (e.g. a file with other bytes, or
            an expiry before the deadline).

        When it raises, the request is unchanged.
        """
        if isinstance(event, QuorumReached):
            raise InvalidInput("QuorumReached is decided by the request itself, not sent to it")
        target = next_state(self._state, type(event))
        match event:
            case Approval():
                return self._approve(event)
            case Rejection():
                return self._reject(event, target)
            case FilesAdded():
                return self._add_files(event)
            case Expiry():
                return self._expire(event, target)
            case Cancellation():
                return self._end(target, event.at, event.person, NotifyReason.CANCELLED, reason=event.reason)
            case _:
                assert_never(event)

    def _check_decision(self, person: PersonId, at: datetime) -> None:
        if at >= self.expires_at:
            raise DecisionRefused(f"request {self.id} expired at {self.expires_at.isoformat()}")
        if not self.policy.groups_of(person, self.uploader):
            raise DecisionRefused(f"{person} is not an eligible approver of request {self.id}")

    def _approve(self, event: Approval) -> list[Action]:
        self._check_decision(event.person, event.at)
        if event.person in self.approvers:
            raise DecisionRefused(f"{event.person} already approved request {self.id}")
        check_challenge(event.challenge, self.manifest(event.person, Verdict.APPROVE))
        self._record(event.person, Verdict.APPROVE, event.at, event.challenge)
        quorum = self.quorum
        actions: list[Action] = [self._audit(event.at, "approval", event.person, quorum=str(quorum))]
        if quorum.satisfied:
            self._state = next_state(self._state, QuorumReached)
            actions.append(self._audit(event.at, "approved", None, seats=dict(quorum.seats)))
            if isinstance(self.subject, Release):
                actions.append(Publish(request_id=self.id, release=self.subject))
            else:
                actions.append(
                    ApplyPolicy(request_id=self.id, policy=self.subject.proposed, replaces_version=self.policy.version)
                )
            actions.append(self._notify(NotifyReason.APPROVED, self.involved))
        return actions

    def _reject(self, event: Rejection, target: RequestState) -> list[Action]:
        self._check_decision(event.person, event.at)
        check_challenge(event.challenge, self.manifest(event.person, Verdict.REJECT))
        self._record(event.person, Verdict.REJECT, event.at, event.challenge)
        return self._end(target, event.at, event.person, NotifyReason.REJECTED, reason=event.reason)

    def _expire(self, event: Expiry, target: RequestState) -> list[Action]:
        # An input error, not a transition the state refuses: the same event is accepted once due.
        if event.at < self.expires_at:
            raise InvalidInput(f"request {self.id} is not due to expire before {self.expires_at.isoformat()}")
        return self._end(target, event.at, None, NotifyReason.EXPIRED)

    def _add_files(self, event: FilesAdded) -> list[Action]:
        if not isinstance(self.subject, Release):
            raise InvalidInput(f"request {self.id} is a policy change and has no files")
        if event.at >= self.expires_at:
            raise DecisionRefused(f"request {self.id} expired at {self.expires_at.isoformat()}")
        grown = self.subject.with_files(event.files)
        if grown == self.subject:
            return []
        # Approvals so far signed the old file list; they no longer cover the release.
        withdrawn = self.approvers
        self.subject, self._decisions = grown, ()
        files = [f.filename for f in grown.files[len(grown.files) - len(event.files) :]]
        audit = self._audit(event.at, "files-added", None, files=files, withdrawn=list(withdrawn))
        return [audit, self._notify(NotifyReason.APPROVAL_NEEDED, self.waiting_for)]

    def _end(
        self, target: RequestState, at: datetime, actor: PersonId | None, why: NotifyReason, **data: Any
    ) -> list[Action]:
        self._state = target
        actions: list[Action] = [self._audit(at, target.value, actor, **data)]
        if isinstance(self.subject, Release):
            actions.append(Purge(request_id=self.id, project=self.subject.project, files=self.subject.files))
        actions.append(self._notify(why, self.involved | {d.person for d in self._decisions}))
        return actions

    def _facts(self) -> dict[str, Any]:
        if isinstance(self.subject, Release):
            files = [{"name": f.filename, "sha256": f.sha256, "size": f.size} for f in self.subject.files]
            return {"project": self.subject.project, "version": self.subject.version, "files": files}
        return {"policy": self.subject.proposed.to_dict()}

    def _record(self, person: PersonId, verdict: Verdict, at: datetime, challenge: bytes) -> None:
        self._decisions += (Decision(person=person, verdict=verdict, at=at, challenge=challenge),)

    def _audit(self, at: datetime, action: str, actor: PersonId | None, **data: Any) -> RecordAudit:
        return RecordAudit(at=at, kind=f"tpp:request:{action}", actor=actor, subject=f"request:{self.id}", data=data)

    def _notify(self, reason: NotifyReason, recipients: frozenset[PersonId]) -> Notify:
        return Notify(request_id=self.id, reason=reason, recipients=recipients)

    def __repr__(self) -> str:
        return f"<ApprovalRequest {self.id} {self._state.value} policy v{self.policy.version}>"


def __dir__() -> list[str]:
    return __all__
