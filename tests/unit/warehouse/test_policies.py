"""Policies through the service: the first is a bootstrap; every change is approved under the
current policy (I5), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from zope.interface.verify import verifyClass

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, group
from tpp_core import (
    ApplyPolicy,
    InvalidPolicy,
    InvalidTransition,
    IPolicyStore,
    PermissionDenied,
    PersonId,
    Policy,
    ProjectName,
    RequestId,
    RequestState,
    Scope,
)
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.interfaces import IPolicyService
from tpp_warehouse.models import AuditRecord, NotificationRecord
from tpp_warehouse.policies import PolicyService, PolicyStore

ACME = Scope.project("acme")


def v2(*members: str) -> Policy:
    return Policy(scope=ACME, version=2, groups=(group("owners", *members),))


@pytest.fixture
def registry(engine: Engine) -> Iterator[Registry]:
    with Session(engine) as session, session.begin():
        registry = Registry(session)
        registry.enrol("lead", "cora", "bob", "dave")
        yield registry


def test_implements_the_interfaces() -> None:
    assert verifyClass(IPolicyService, PolicyService)
    assert verifyClass(IPolicyStore, PolicyStore)


def test_the_first_policy_is_applied_by_an_owner(registry: Registry) -> None:
    assert registry.policies.current(ACME) is None
    assert registry.set_policy(brief_policy(), by="lead") is None
    assert registry.policies.current(ACME) == brief_policy()
    [record] = registry.policies.versions(ACME)
    assert (record.version, record.created_by, record.approved_by_request) == (1, "lead", None)
    [entry] = registry.session.scalars(select(AuditRecord).where(AuditRecord.kind == "tpp:policy:applied"))
    assert (entry.actor, entry.subject, entry.data["approved_by"]) == ("lead", "policy:acme", None)


def test_only_someone_who_manages_the_scope_may_propose(registry: Registry) -> None:
    with pytest.raises(PermissionDenied, match="bob may not set the policy of acme"):
        registry.policies.propose(
            PersonId("bob"), Policy(scope=ACME, version=1, groups=(group("o", "bob"),)), registry.now
        )
    with pytest.raises(PermissionDenied, match="lead may not set the policy of acme-\\*"):
        registry.set_policy(Policy(scope=Scope.prefix("acme-"), version=1, groups=(group("o", "lead"),)))
    assert (
        registry.set_policy(Policy(scope=Scope.prefix("acme-"), version=1, groups=(group("o", "root"),)), by="root")
        is None
    )


def test_the_first_policy_is_version_one(registry: Registry) -> None:
    with pytest.raises(InvalidPolicy, match="the first policy of acme must be version 1, not 2"):
        registry.set_policy(v2("lead"))


class TestChanges:
    @pytest.fixture(autouse=True)
    def bootstrap(self, registry: Registry) -> None:
        registry.set_policy(brief_policy())

    def test_a_change_is_a_request_and_changes_nothing_until_approved(self, registry: Registry) -> None:
        change = registry.set_policy(v2("lead", "bob"), by="cora")
        assert change is not None
        request = registry.approvals.get(change)
        assert (request.state, request.policy.version, request.uploader) == (RequestState.VERIFYING, 1, "cora")
        assert registry.policies.current(ACME) == brief_policy()
        assert [r.id for r in registry.policies.pending(ACME)] == [change]
        assert registry.policies.pending(Scope.prefix("acme")) == []
        registry.approve(change, "lead")
        registry.approve(change, "cora")
        assert registry.policies.current(ACME) == brief_policy()
        registry.approve(change, "dave")
        assert registry.policies.current(ACME) == v2("lead", "bob")
        assert registry.policies.pending(ACME) == []
        newest = registry.policies.versions(ACME)[0]
        assert (newest.version, newest.created_by, newest.approved_by_request) == (2, "cora", change)
        assert DatabaseAuditLog(registry.session).verify() > 0

    def test_a_rejected_change_leaves_the_policy_alone(self, registry: Registry) -> None:
        change = registry.set_policy(v2("lead"))
        assert change is not None
        registry.reject(change, "bob")
        assert registry.policies.current(ACME) == brief_policy()
        assert registry.host.purged == []

    def test_a_newcomer_cannot_approve_their_own_admission(self, registry: Registry) -> None:
        registry.enrol("eve")
        change = registry.set_policy(v2("lead", "eve"))
        assert change is not None
        from tpp_core import DecisionRefused, Verdict

        with pytest.raises(DecisionRefused, match="eve is not an eligible approver"):
            registry.sign(change, "eve", Verdict.APPROVE)

    def test_a_change_must_be_the_next_version(self, registry: Registry) -> None:
        with pytest.raises(Exception, match="must propose v2 of the same scope, not acme v3"):
            registry.set_policy(Policy(scope=ACME, version=3, groups=(group("o", "lead"),)))

    def test_of_two_competing_changes_only_the_first_approved_applies(self, registry: Registry) -> None:
        first = registry.set_policy(v2("lead"))
        second = registry.set_policy(v2("cora"), by="cora")
        assert first is not None
        assert second is not None
        registry.approve(second, "lead")
        registry.approve(second, "cora")
        for person in ("lead", "cora", "bob"):
            registry.approve(first, person)
        assert registry.policies.current(ACME) == v2("lead")
        # The second was proposed against v1: it is withdrawn at once, saying why, and everyone is told.
        assert registry.approvals.get(second).state is RequestState.CANCELLED
        assert (
            registry.approvals.reason(second) == f"superseded by version 2 of the policy, approved in request {first}"
        )
        assert registry.policies.pending(ACME) == []
        with pytest.raises(InvalidTransition, match="is cancelled; there is nothing to decide"):
            registry.approve(second, "dave")
        told = registry.session.scalars(
            select(NotificationRecord.person).where(
                NotificationRecord.subject == f"request:{second}", NotificationRecord.reason == "cancelled"
            )
        )
        assert set(told) == {"lead", "cora", "bob", "dave"}  # whoever it asked, and its proposer
        assert registry.policies.current(ACME) == v2("lead")

    def test_a_stale_change_cannot_apply_even_if_it_was_not_withdrawn(self, registry: Registry) -> None:
        """The store's own check, for a change whose withdrawal raced with its approval."""
        with pytest.raises(InvalidTransition, match="changed since this request was opened"):
            PolicyStore(registry.session).apply(
                ApplyPolicy(
                    request_id=RequestId("r1"),
                    policy=Policy(scope=ACME, version=3, groups=(group("owners", "lead"),)),
                    replaces_version=2,
                ),
                registry.now,
                PersonId("lead"),
            )

    def test_governing_prefers_the_project_then_the_longest_prefix(self, registry: Registry) -> None:
        wide = Policy(scope=Scope.prefix("acme"), version=1, groups=(group("o", "root"),))
        registry.set_policy(wide, by="root")
        assert registry.policies.governing(ProjectName("acme")) == brief_policy()
        assert registry.policies.governing(ProjectName("acme-cli")) == wide
        assert registry.policies.governing(ProjectName("other")) is None

    def test_the_owner_check_applies_to_changes_too(self, registry: Registry) -> None:
        with pytest.raises(PermissionDenied):
            registry.policies.propose(PersonId("dave"), v2("dave"), registry.now)
