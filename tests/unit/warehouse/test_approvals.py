"""Release approvals through the service, with real WebAuthn assertions, on SQLite and PostgreSQL:
the journey, and every way an attacker might try to publish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from zope.interface.verify import verifyClass

from tests.common.registry import ORIGIN, Registry
from tests.common.scenario import LIFETIME, brief_policy, group, wheel
from tpp_core import (
    ApprovalRequest,
    DecisionRefused,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    PersonId,
    Policy,
    RequestId,
    RequestState,
    Scope,
    Verdict,
    make_challenge,
)
from tpp_warehouse import webauthn
from tpp_warehouse.approvals import ApprovalService
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.interfaces import IApprovalService
from tpp_warehouse.models import DecisionRecord, DeviceRecord, NotificationRecord, RequestFileRecord
from tpp_warehouse.webauthn import WebAuthnRejected


@pytest.fixture
def registry(engine: Engine) -> Iterator[Registry]:
    with Session(engine) as session, session.begin():
        registry = Registry(session)
        registry.enrol("lead", "cora", "bob", "dave", "mallory")
        registry.set_policy(brief_policy())
        yield registry


@pytest.fixture
def request_(registry: Registry) -> ApprovalRequest:
    request = registry.upload("acme", "1.0", wheel())
    assert request is not None
    return request


def notified(registry: Registry, request_id: str) -> dict[str, set[str]]:
    rows = registry.session.scalars(
        select(NotificationRecord).where(NotificationRecord.subject == f"request:{request_id}")
    )
    out: dict[str, set[str]] = {}
    for row in rows:
        out.setdefault(row.reason, set()).add(row.person)
    return out


def test_implements_the_interface() -> None:
    assert verifyClass(IApprovalService, ApprovalService)


@pytest.mark.parametrize(
    ("person", "may"),
    [("ci", True), ("dave", True), ("olive", True), ("root", False), ("mallory", False)],
    ids=["uploader", "eligible", "owner", "admin-of-prefixes", "stranger"],
)
def test_who_may_read_a_release_request(registry: Registry, request_: ApprovalRequest, person: str, may: bool) -> None:
    registry.host.owners_of["acme"].add("olive")  # an owner who approves nothing
    assert registry.approvals.may_read(request_, PersonId(person)) is may


@pytest.mark.parametrize(
    ("person", "may"),
    [("lead", True), ("dave", True), ("olive", True), ("ci", False), ("mallory", False)],
    ids=["proposer", "eligible", "manager", "release-uploader", "stranger"],
)
def test_who_may_read_a_policy_change(registry: Registry, person: str, may: bool) -> None:
    """Beyond the proposer and the approvers, whoever manages the scope (the branch the devpi copy lacked)."""
    registry.host.owners_of["acme"].add("olive")
    change = registry.set_policy(brief_policy(version=2))
    assert change is not None
    assert registry.approvals.may_read(registry.approvals.get(change), PersonId(person)) is may


def test_a_project_without_an_owner_in_the_host_is_not_held(registry: Registry) -> None:
    assert registry.upload("other", "1.0", wheel("other-1.0.tar.gz")) is None


def test_a_projects_first_upload_gives_it_the_default_policy_and_opens_its_request(registry: Registry) -> None:
    """No project is ever without a policy (I5): its owners in the host approve until they change it."""
    registry.host.owners_of["fresh"] = {"lead", "cora"}
    request = registry.upload("fresh", "1.0", wheel("fresh-1.0.tar.gz"), uploader="ci")
    assert request is not None
    [group_] = request.policy.groups
    assert (group_.name, sorted(group_.members), group_.seats, request.policy.version) == (
        "(Default)",
        ["cora", "lead"],
        1,
        1,
    )
    assert registry.policies.current(Scope.project("fresh")) == request.policy
    assert notified(registry, request.id) == {"approval-needed": {"lead", "cora"}}
    kinds = [(e.kind, e.subject, e.actor) for e in DatabaseAuditLog(registry.session).entries()]
    assert ("tpp:policy:applied", "policy:fresh", "ci") in kinds
    # The next upload finds the policy in force: no second default.
    assert registry.upload("fresh", "1.1", wheel("fresh-1.1.tar.gz")) is not None
    assert [r.version for r in registry.policies.versions(Scope.project("fresh"))] == [1]


def test_a_prefix_policy_governs_a_new_project_instead_of_a_default(registry: Registry) -> None:
    registry.host.owners_of["acme-new"] = {"cora"}
    prefix = Policy(scope=Scope.prefix("acme-"), version=1, groups=(group("core", "lead"),))
    registry.set_policy(prefix, by="root")
    request = registry.upload("acme-new", "1.0", wheel("acme_new-1.0.tar.gz"))
    assert request is not None
    assert request.policy == prefix
    assert registry.policies.current(Scope.project("acme-new")) is None


def test_the_journey_three_distinct_people_publish_it(registry: Registry, request_: ApprovalRequest) -> None:
    assert request_.state is RequestState.VERIFYING
    assert notified(registry, request_.id) == {"approval-needed": {"lead", "cora", "bob", "dave"}}
    assert registry.approve(request_.id, "lead").state is RequestState.VERIFYING
    assert str(registry.approve(request_.id, "cora").quorum) == "company needs 1 more; eligible: bob, dave"
    assert registry.host.published == []
    done = registry.approve(request_.id, "dave")
    assert done.state is RequestState.APPROVED
    [published] = registry.host.published
    assert published.release.files == (wheel(),)
    assert registry.approvals.get(request_.id).state is RequestState.APPROVED
    # Everyone involved hears the outcome, and so do the project's owners in the host.
    assert notified(registry, request_.id)["approved"] == {"lead", "cora", "bob", "dave", "ci"}
    assert DatabaseAuditLog(registry.session).verify() >= 6


def test_stored_approvals_can_be_reverified_by_anyone(registry: Registry, request_: ApprovalRequest) -> None:
    registry.approve(request_.id, "lead")
    [record] = registry.session.scalars(select(DecisionRecord))
    assert record.challenge[32:] == make_challenge(bytes(32), record.manifest)[32:]
    assert json.loads(record.manifest)["files"][0]["sha256"] == wheel().sha256
    webauthn.reverify(
        client_data_json=record.client_data_json,
        authenticator_data=record.authenticator_data,
        signature=record.signature,
        public_key=record.public_key,
        challenge=record.challenge,
        rp_id="localhost",
        origins=[ORIGIN],
    )


def test_more_files_withdraw_approvals_and_need_them_again(registry: Registry, request_: ApprovalRequest) -> None:
    registry.approve(request_.id, "lead")
    grown = registry.upload("acme", "1.0", wheel("acme-1.0.tar.gz", n=2))
    assert grown is not None
    assert grown.id == request_.id
    assert grown.approvers == ()
    assert registry.session.scalar(select(func.count()).select_from(DecisionRecord).where(DecisionRecord.withdrawn))
    for person in ("lead", "cora", "bob"):
        registry.approve(request_.id, person)
    assert [f.filename for f in registry.host.published[0].release.files] == [
        "acme-1.0-py3-none-any.whl",
        "acme-1.0.tar.gz",
    ]


class TestAttacks:
    def test_a_replayed_assertion_is_refused(self, registry: Registry, request_: ApprovalRequest) -> None:
        signed = registry.sign(request_.id, "lead", Verdict.APPROVE)
        registry.approvals.decide(request_.id, PersonId("lead"), Verdict.APPROVE, signed, registry.now)
        with pytest.raises(InvalidInput, match="already used"):
            registry.approvals.decide(request_.id, PersonId("lead"), Verdict.APPROVE, signed, registry.now)

    def test_an_assertion_replayed_under_a_fresh_ceremony_is_refused(
        self, registry: Registry, request_: ApprovalRequest
    ) -> None:
        _, old_credential = registry.sign(request_.id, "cora", Verdict.APPROVE)
        fresh = registry.approvals.begin_decision(request_.id, PersonId("cora"), Verdict.APPROVE, registry.now)
        with pytest.raises(WebAuthnRejected):
            registry.approvals.decide(
                request_.id, PersonId("cora"), Verdict.APPROVE, (fresh.id, old_credential), registry.now
            )

    def test_an_assertion_made_for_another_request_is_refused(
        self, registry: Registry, request_: ApprovalRequest
    ) -> None:
        other = registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", n=3))
        assert other is not None
        signed_for_other = registry.sign(other.id, "lead", Verdict.APPROVE)
        with pytest.raises(InvalidInput, match="started for something else"):
            registry.approvals.decide(request_.id, PersonId("lead"), Verdict.APPROVE, signed_for_other, registry.now)
        ceremony = registry.approvals.begin_decision(request_.id, PersonId("lead"), Verdict.APPROVE, registry.now)
        with pytest.raises(WebAuthnRejected):
            registry.approvals.decide(
                request_.id, PersonId("lead"), Verdict.APPROVE, (ceremony.id, signed_for_other[1]), registry.now
            )

    def test_a_file_swapped_after_the_notification_makes_approval_impossible(
        self, registry: Registry, request_: ApprovalRequest
    ) -> None:
        signed = registry.sign(request_.id, "lead", Verdict.APPROVE)
        registry.session.execute(update(RequestFileRecord).values(sha256="f" * 64))
        with pytest.raises(WebAuthnRejected, match="another page or request"):
            registry.approvals.decide(request_.id, PersonId("lead"), Verdict.APPROVE, signed, registry.now)
        assert registry.approvals.get(request_.id).decisions == ()

    def test_an_assertion_without_user_verification_is_refused(
        self, registry: Registry, request_: ApprovalRequest
    ) -> None:
        ceremony = registry.approvals.begin_decision(request_.id, PersonId("lead"), Verdict.APPROVE, registry.now)
        assertion = registry.authenticators["lead"].get(json.loads(ceremony.options), ORIGIN, user_verified=False)
        with pytest.raises(WebAuthnRejected, match="user verification"):
            registry.approvals.decide(
                request_.id, PersonId("lead"), Verdict.APPROVE, (ceremony.id, json.dumps(assertion)), registry.now
            )

    def test_a_device_inside_its_cooldown_cannot_approve(self, registry: Registry, request_: ApprovalRequest) -> None:
        registry.session.execute(update(DeviceRecord).values(enrolled_at=registry.now))
        with pytest.raises(DecisionRefused, match="no device that may approve yet"):
            registry.approvals.begin_decision(request_.id, PersonId("lead"), Verdict.APPROVE, registry.now)

    def test_a_non_member_cannot_approve(self, registry: Registry, request_: ApprovalRequest) -> None:
        with pytest.raises(DecisionRefused, match="mallory is not an eligible approver"):
            registry.sign(request_.id, "mallory", Verdict.APPROVE)

    def test_one_person_cannot_take_a_second_seat(self, registry: Registry, request_: ApprovalRequest) -> None:
        registry.approve(request_.id, "cora")
        with pytest.raises(DecisionRefused, match="cora already approved"):
            registry.approve(request_.id, "cora")
        assert registry.approvals.get(request_.id).approvers == ("cora",)

    def test_someone_elses_device_is_refused(self, registry: Registry, request_: ApprovalRequest) -> None:
        ceremony = registry.approvals.begin_decision(request_.id, PersonId("bob"), Verdict.APPROVE, registry.now)
        stolen = registry.authenticators["lead"].get(json.loads(ceremony.options), ORIGIN)
        with pytest.raises(DecisionRefused, match="not one of your enrolled devices"):
            registry.approvals.decide(
                request_.id, PersonId("bob"), Verdict.APPROVE, (ceremony.id, json.dumps(stolen)), registry.now
            )

    def test_an_expired_challenge_is_refused(self, registry: Registry, request_: ApprovalRequest) -> None:
        signed = registry.sign(request_.id, "lead", Verdict.APPROVE)
        registry.tick(registry.settings.challenge_lifetime)
        with pytest.raises(InvalidInput, match="expired"):
            registry.approvals.decide(request_.id, PersonId("lead"), Verdict.APPROVE, signed, registry.now)

    def test_an_approval_challenge_cannot_reject_and_vice_versa(
        self, registry: Registry, request_: ApprovalRequest
    ) -> None:
        signed = registry.sign(request_.id, "lead", Verdict.APPROVE)
        with pytest.raises(InvalidInput, match="started for something else"):
            registry.approvals.decide(request_.id, PersonId("lead"), Verdict.REJECT, signed, registry.now)


class TestOutcomes:
    def test_one_rejection_purges_and_tells_everyone(self, registry: Registry, request_: ApprovalRequest) -> None:
        registry.approve(request_.id, "lead")
        assert registry.approvals.reason(request_.id) == ""  # still open
        done = registry.reject(request_.id, "bob", reason="not our build")
        assert done.state is RequestState.REJECTED
        assert registry.approvals.reason(request_.id) == "not our build"
        [purge] = registry.host.purged
        assert purge.files == (wheel(),)
        assert registry.host.published == []
        assert notified(registry, request_.id)["rejected"] == {"lead", "cora", "bob", "dave", "ci"}
        with pytest.raises(InvalidTransition, match="is rejected; there is nothing to decide"):
            registry.sign(request_.id, "cora", Verdict.APPROVE)

    def test_expiry(self, registry: Registry, request_: ApprovalRequest) -> None:
        assert registry.approvals.expire_overdue(registry.now) == 0
        registry.tick(LIFETIME)
        assert registry.approvals.expire_overdue(registry.now) == 1
        assert registry.approvals.get(request_.id).state is RequestState.EXPIRED
        assert len(registry.host.purged) == 1
        assert registry.approvals.expire_overdue(registry.now) == 0

    def test_cancel_by_the_uploader_or_an_owner_only(self, registry: Registry, request_: ApprovalRequest) -> None:
        with pytest.raises(PermissionDenied, match="only the uploader or an owner"):
            registry.approvals.cancel(request_.id, PersonId("mallory"), registry.now)
        assert registry.approvals.cancel(request_.id, PersonId("ci"), registry.now).state is RequestState.CANCELLED
        assert registry.approvals.reason(request_.id) == ""  # withdrawn without one
        assert len(registry.host.purged) == 1

    def test_lists(self, registry: Registry, request_: ApprovalRequest) -> None:
        assert [r.id for r in registry.approvals.waiting_for(PersonId("dave"))] == [request_.id]
        assert registry.approvals.waiting_for(PersonId("mallory")) == []
        registry.approve(request_.id, "dave")
        assert registry.approvals.waiting_for(PersonId("dave")) == []
        assert [r.id for r in registry.approvals.history(request_.subject.project)] == [request_.id]  # type: ignore[union-attr]

    def test_unknown_ids(self, registry: Registry) -> None:
        with pytest.raises(NotFound, match="there is no request 'nope'"):
            registry.approvals.get(RequestId("nope"))
        with pytest.raises(NotFound):
            registry.sign(RequestId("nope"), "lead", Verdict.APPROVE)

    def test_the_pinned_policy_decides_a_pending_request(self, registry: Registry, request_: ApprovalRequest) -> None:
        """A policy change approved while a release waits does not change what that release needs."""
        smaller = Policy(scope=Scope.project("acme"), version=2, groups=(group("lead", "lead"),))
        change = registry.set_policy(smaller)
        assert change is not None
        for person in ("lead", "cora", "bob"):
            registry.approve(change, person)
        assert registry.policies.current(Scope.project("acme")) == smaller
        assert registry.approve(request_.id, "lead").state is RequestState.VERIFYING
        assert registry.approvals.get(request_.id).policy.version == 1
        assert registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", n=4)).policy.version == 2  # type: ignore[union-attr]

    def test_the_clock_matters_for_the_cooldown(self, registry: Registry) -> None:
        registry.enrol("eve", ready=False)
        assert registry.devices.usable(PersonId("eve"), registry.now) == []
        registry.tick(timedelta(hours=24))
        assert len(registry.devices.usable(PersonId("eve"), registry.now)) == 1


def test_a_cooling_device_cannot_answer_for_a_usable_one(registry: Registry, request_: ApprovalRequest) -> None:
    """The ceremony only offers usable devices, but an attacker could answer with a newer one."""
    from tests.common.authenticator import SoftAuthenticator

    newer = SoftAuthenticator()
    registration, vouch = registry.devices.begin_enrolment(PersonId("lead"), registry.now)
    assert vouch is not None
    created = json.dumps(newer.create(json.loads(registration.options), ORIGIN))
    vouched = json.dumps(registry.authenticators["lead"].get(json.loads(vouch.options), ORIGIN))
    registry.devices.finish_enrolment(
        PersonId("lead"), "laptop", (registration.id, created), (vouch.id, vouched), registry.now
    )
    ceremony = registry.approvals.begin_decision(request_.id, PersonId("lead"), Verdict.APPROVE, registry.now)
    answer = json.dumps(newer.get(json.loads(ceremony.options), ORIGIN))
    with pytest.raises(DecisionRefused, match="enrolled recently and may approve from"):
        registry.approvals.decide(request_.id, PersonId("lead"), Verdict.APPROVE, (ceremony.id, answer), registry.now)


def test_a_first_device_is_announced_to_co_owners(registry: Registry) -> None:
    """Eve is named in a policy but never enrolled: whoever adds her first device is announced."""
    from tpp_core import Policy, Scope

    with_eve = Policy(scope=Scope.project("acme"), version=2, groups=(group("all", "lead", "eve"),))
    change = registry.set_policy(with_eve)
    assert change is not None
    for person in ("lead", "cora", "bob"):
        registry.approve(change, person)
    [device] = registry.enrol("eve")
    rows = registry.session.scalars(
        select(NotificationRecord).where(NotificationRecord.subject == f"device:{device.id}")
    )
    heard = {(row.person, row.reason) for row in rows}
    assert heard == {("eve", "device-enrolled"), ("lead", "device-bootstrapped"), ("cora", "device-bootstrapped")}
