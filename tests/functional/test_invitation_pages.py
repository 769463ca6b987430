"""Invitations through the pages: only a scope's managers invite, only the invitee answers, only with a
browser session (I3), and bad input is a 4xx that stores nothing (I10)."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from tests.common.registry import Registry
from tests.functional.conftest import csrf, login
from tpp_core import PersonId, Scope
from tpp_warehouse.models import AuditRecord, InvitationRecord

ACME = Scope.project("acme")
INVITE = "/tpp/policies/project/acme/invitations"
CI_TOKEN = {"Authorization": "Basic " + base64.b64encode(b"__token__:ci-secret").decode()}


def stored(registry: Registry) -> tuple[int, int, int]:
    """How many invitations there are, how many were accepted, and how many audit entries."""
    registry.session.rollback()
    count = registry.session.scalar
    return (
        count(select(func.count()).select_from(InvitationRecord)) or 0,
        count(select(func.count()).where(InvitationRecord.accepted_at.is_not(None))) or 0,
        count(select(func.count()).select_from(AuditRecord)) or 0,
    )


def invitation(registry: Registry, person: str = "bob") -> int:
    """Lead invites ``person`` to acme, committed; returns the invitation's id."""
    record = registry.invitations.invite(PersonId("lead"), ACME, PersonId(person), registry.now)
    registry.session.commit()
    return record.id


def test_the_invitee_declines_and_cannot_be_named(app: TestApp, registry: Registry) -> None:
    invitation_id = invitation(registry)
    login(app, "bob", registry)
    declined = app.get("/tpp/requests").forms[1].submit(status=303).follow()
    assert "You declined the invitation." in declined.text
    assert stored(registry)[:2] == (0, 0)
    login(app, "lead", registry)
    assert "bob" not in app.get("/tpp/policies/project/acme").html.find(id="approvers").text
    app.post(f"/tpp/invitations/{invitation_id}/accept", {"csrf_token": csrf(app)}, status=404)


def test_inviting_someone_who_accepted_says_so(app: TestApp, registry: Registry) -> None:
    registry.invite(ACME, "bob")
    registry.session.commit()
    login(app, "lead", registry)
    answer = app.post(INVITE, {"person": "bob", "csrf_token": csrf(app)}, status=303).follow()
    assert "bob has already accepted; you may name them in the policy." in answer.text
    assert stored(registry)[:2] == (1, 1)


def test_only_a_manager_of_the_scope_invites(app: TestApp, registry: Registry) -> None:
    login(app, "bob", registry)
    before = stored(registry)
    page = app.get("/tpp/policies/project/acme")
    assert "invite-form" not in page.forms
    refused = app.post(INVITE, {"person": "cora", "csrf_token": csrf(app)}, status=403)
    assert "bob may not invite approvers for acme" in refused.text
    assert stored(registry) == before


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ("", "name the registry user to invite in the person field"),
        ("   ", "name the registry user to invite in the person field"),
        ("bob smith", "person id"),
        ("lead", "lead needs no invitation"),
    ],
)
def test_a_bad_invitee_is_a_400_that_stores_nothing(
    app: TestApp, registry: Registry, person: str, message: str
) -> None:
    login(app, "lead", registry)
    before = stored(registry)
    refused = app.post(INVITE, {"person": person, "csrf_token": csrf(app)}, status=400)
    assert message in refused.text
    assert stored(registry) == before


def test_a_bad_scope_in_the_address_is_a_4xx(app: TestApp, registry: Registry) -> None:
    login(app, "lead", registry)
    app.post("/tpp/policies/team/acme/invitations", {"person": "bob", "csrf_token": csrf(app)}, status=404)
    app.post("/tpp/policies/project/-acme-/invitations", {"person": "bob", "csrf_token": csrf(app)}, status=400)


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_only_the_invitee_answers_and_odd_ids_are_unknown(app: TestApp, registry: Registry, answer: str) -> None:
    invitation_id = invitation(registry)
    login(app, "cora", registry)
    before = stored(registry)
    token = csrf(app)
    for some_id in (str(invitation_id), "999", "99999999999999999999", "x1"):
        refused = app.post(f"/tpp/invitations/{some_id}/{answer}", {"csrf_token": token}, status=404)
        assert "cora has no" in refused.text
    assert stored(registry) == before


@pytest.mark.parametrize("headers", [CI_TOKEN, {}], ids=["api-token", "no-credential"])
def test_tokens_and_strangers_cannot_invite_or_answer(
    app: TestApp, registry: Registry, headers: dict[str, str]
) -> None:
    """I3: an upload token cannot add a person to the approvers, nor answer for one."""
    invitation_id = invitation(registry)
    before = stored(registry)
    page = app.get("/tpp/requests", headers=headers, status=403)
    token = page.html.find("meta", {"name": "csrf-token"})["content"]
    app.post(INVITE, {"person": "mallory", "csrf_token": token}, headers=headers, status=403)
    for answer in ("accept", "decline"):
        app.post(f"/tpp/invitations/{invitation_id}/{answer}", {"csrf_token": token}, headers=headers, status=403)
    assert stored(registry) == before


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "forged"])
def test_a_post_without_the_csrf_token_is_refused(app: TestApp, registry: Registry, token: str | None) -> None:
    invitation_id = invitation(registry)
    fields = {} if token is None else {"csrf_token": token}
    login(app, "lead", registry)
    before = stored(registry)
    app.post(INVITE, {"person": "cora", **fields}, status=400)
    login(app, "bob", registry)
    before = (*before[:2], stored(registry)[2])  # bob's sign-in enrolled and confirmed his device
    app.post(f"/tpp/invitations/{invitation_id}/accept", fields, status=400)
    assert stored(registry) == before
