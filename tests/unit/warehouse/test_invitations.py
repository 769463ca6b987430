"""Invitations: a policy names only people who agreed to approve for its scope, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from zope.interface.verify import verifyClass

from tests.common.host import MemoryHost
from tests.common.registry import SETTINGS, Registry
from tests.common.scenario import T0, group
from tpp_core import InvalidInput, InvalidPolicy, NotFound, PermissionDenied, PersonId, Policy, Scope
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.interfaces import IInvitationService
from tpp_warehouse.invitations import InvitationService
from tpp_warehouse.models import AuditRecord, InvitationRecord, NotificationRecord, PolicyRecord
from tpp_warehouse.policies import PolicyService

ACME = Scope.project("acme")
LEAD, BOB, CORA = PersonId("lead"), PersonId("bob"), PersonId("cora")


def owners(version: int, *members: str) -> Policy:
    return Policy(scope=ACME, version=version, groups=(group("owners", *members),))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session, session.begin():
        yield session


@pytest.fixture
def invitations(session: Session) -> InvitationService:
    return Registry(session, SETTINGS, MemoryHost()).invitations


@pytest.fixture
def policies(session: Session) -> PolicyService:
    return Registry(session, SETTINGS, MemoryHost()).policies


def test_implements_the_interface() -> None:
    assert verifyClass(IInvitationService, InvitationService)


def test_an_invitee_is_told_and_counts_once_accepted(session: Session, invitations: InvitationService) -> None:
    record = invitations.invite(LEAD, ACME, BOB, T0)
    assert (record.person, record.invited_by, record.accepted_at) == ("bob", "lead", None)
    [note] = session.scalars(select(NotificationRecord))
    assert (note.person, note.subject, note.reason) == ("bob", f"invitation:{record.id}", "invited")
    assert invitations.pending_for(BOB) == [record]
    assert invitations.accepted(ACME) == frozenset()

    invitations.accept(BOB, record.id, T0)
    assert invitations.accepted(ACME) == {BOB}
    assert invitations.pending_for(BOB) == []
    assert invitations.of_scope(ACME) == [record]
    kinds = [(e.kind, e.actor, e.subject, e.data["person"]) for e in DatabaseAuditLog(session).entries()]
    assert kinds == [
        ("tpp:invitation:sent", "lead", "policy:acme", "bob"),
        ("tpp:invitation:accepted", "bob", "policy:acme", "bob"),
    ]


def test_inviting_and_accepting_again_change_nothing(session: Session, invitations: InvitationService) -> None:
    first = invitations.invite(LEAD, ACME, BOB, T0)
    assert invitations.invite(LEAD, ACME, BOB, T0).id == first.id
    invitations.accept(BOB, first.id, T0)
    invitations.accept(BOB, first.id, T0)
    assert session.scalar(select(func.count()).select_from(InvitationRecord)) == 1
    assert session.scalar(select(func.count()).select_from(NotificationRecord)) == 1
    assert session.scalar(select(func.count()).select_from(AuditRecord)) == 2  # sent, accepted


def test_declining_removes_the_invitation_and_allows_a_new_one(
    session: Session, invitations: InvitationService
) -> None:
    record = invitations.invite(LEAD, ACME, BOB, T0)
    invitations.decline(BOB, record.id, T0)
    assert invitations.of_scope(ACME) == []
    assert [e.kind for e in DatabaseAuditLog(session).entries()][-1] == "tpp:invitation:declined"
    assert invitations.invite(LEAD, ACME, BOB, T0).accepted_at is None


def test_only_the_invitee_answers_and_ids_reveal_nothing(session: Session, invitations: InvitationService) -> None:
    record = invitations.invite(LEAD, ACME, BOB, T0)
    for answer in (invitations.accept, invitations.decline):
        with pytest.raises(NotFound, match=f"cora has no invitation {record.id}"):
            answer(CORA, record.id, T0)
        with pytest.raises(NotFound, match="bob has no invitation 999"):
            answer(BOB, 999, T0)
    assert invitations.accepted(ACME) == frozenset()
    assert len(invitations.of_scope(ACME)) == 1


def test_only_a_manager_of_the_scope_invites(session: Session, invitations: InvitationService) -> None:
    with pytest.raises(PermissionDenied, match="bob may not invite approvers for acme"):
        invitations.invite(BOB, ACME, CORA, T0)
    with pytest.raises(InvalidInput, match="lead needs no invitation"):
        invitations.invite(LEAD, ACME, LEAD, T0)
    assert session.scalar(select(func.count()).select_from(InvitationRecord)) == 0


def test_a_policy_cannot_name_someone_who_has_not_accepted(
    session: Session, invitations: InvitationService, policies: PolicyService
) -> None:
    with pytest.raises(InvalidPolicy, match="bob, cora have not accepted an invitation to approve for acme"):
        policies.propose(LEAD, owners(1, "lead", "bob", "cora"), T0)
    invitations.invite(LEAD, ACME, BOB, T0)  # invited is not enough
    with pytest.raises(InvalidPolicy, match=r"^bob has not accepted"):
        policies.propose(LEAD, owners(1, "lead", "bob"), T0)
    assert policies.current(ACME) is None


def test_the_proposer_and_current_members_need_no_invitation(
    session: Session, invitations: InvitationService, policies: PolicyService
) -> None:
    assert policies.propose(LEAD, owners(1, "lead"), T0) is None
    invitations.accept(BOB, invitations.invite(LEAD, ACME, BOB, T0).id, T0)
    # Bob joins through a change approved under v1; cora, named next to him, must accept first.
    with pytest.raises(InvalidPolicy, match=r"^cora has not accepted"):
        policies.propose(LEAD, owners(2, "lead", "bob", "cora"), T0)
    assert policies.propose(LEAD, owners(2, "lead", "bob"), T0) is not None
    assert session.scalar(select(func.count()).select_from(PolicyRecord)) == 1


def test_an_invitation_is_for_one_scope(invitations: InvitationService, policies: PolicyService) -> None:
    other = Scope.prefix("acme-")
    root = PersonId("root")  # MemoryHost: root manages every scope
    invitations.accept(BOB, invitations.invite(root, ACME, BOB, T0).id, T0)
    with pytest.raises(InvalidPolicy, match=r"^bob has not accepted an invitation to approve for acme-\*"):
        policies.propose(root, Policy(scope=other, version=1, groups=(group("o", "root", "bob"),)), T0)
