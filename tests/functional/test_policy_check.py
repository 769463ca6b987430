"""The policy editor's live check (``POST /tpp/policies/{kind}/{value}/check``): the checks saving runs
(tpp_core's policy rules, invitations, the next version), nothing stored, who would fill which seat or
why the draft is refused; only a browser session of someone who may manage the scope gets an answer
(I3), and a body that is not a JSON object is a 400 (I10)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import brief_policy
from tests.functional.conftest import csrf, login
from tests.functional.test_policy_pages import ACME, CI_TOKEN, PAGE, acme, group_doc, stored

CHECK = PAGE + "/check"


def check(app: TestApp, draft: Any, status: int = 200, **headers: str) -> Any:
    """Ask the check endpoint about ``draft`` (a value to dump as the textarea's text), as policy.js does."""
    token = csrf(app, PAGE) if "X-CSRF-Token" not in headers else headers.pop("X-CSRF-Token")
    text = draft if isinstance(draft, str) else json.dumps(draft)
    return app.post_json(CHECK, {"policy": text}, headers={"X-CSRF-Token": token, **headers}, status=status).json


def test_a_valid_first_policy_says_who_would_sit_where_and_that_saving_applies_it(
    app: TestApp, registry: Registry
) -> None:
    registry.invite(ACME, "bob", "cora", "dave")
    registry.session.commit()
    login(app, "lead")  # a check changes nothing: a session without a device confirmation suffices
    before = stored(registry)
    answer = check(app, brief_policy().to_dict())
    assert answer == {
        "valid": True,
        "action": "Save",
        "effect": "Saving puts version 1 in force at once.",
        "seats": [  # cora sits once, though she is in two groups
            {"group": "lead", "seats": 1, "filled_by": ["lead"]},
            {"group": "core-team", "seats": 1, "filled_by": ["bob"]},
            {"group": "company", "seats": 1, "filled_by": ["cora"]},
        ],
    }
    assert stored(registry) == before


def test_a_change_is_proposed_and_must_be_the_next_version(app: TestApp, registry: Registry) -> None:
    registry.set_policy(brief_policy())
    registry.session.commit()
    login(app, "lead")
    answer = check(app, brief_policy(version=2).to_dict())
    assert (answer["valid"], answer["action"]) == (True, "Propose")
    assert answer["effect"] == (
        "Proposing opens a change request; version 2 takes effect once the approvers of version 1 approve it."
    )
    refused = check(app, brief_policy(version=3).to_dict())
    assert refused == {
        "valid": False,
        "reason": "a change to policy acme v1 must propose v2 of the same scope, not acme v3",
    }


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        pytest.param(
            acme(group_doc("lead", "lead"), group_doc("team", "lead", "bob")),
            "bob has not accepted an invitation to approve for acme",
            id="not-invited",
        ),
        pytest.param(
            acme(group_doc("lead", "lead"), group_doc("deputy", "lead")),
            "the groups need 2 distinct approvers in all, but even if everyone approved, 'deputy' could not be filled",
            id="lockout",
        ),
        pytest.param(
            acme(group_doc("lead", "lead", exclude_uploader=True)),
            "group 'lead' needs 1 approver(s) but only 0 eligible member(s) remain",
            id="uploader-alone",
        ),
        pytest.param(acme(group_doc("lead", "lead", seats=0)), "seats must be a whole number", id="seats-0"),
        pytest.param(acme(), "a policy needs at least one approval group", id="no-groups"),
        pytest.param('{"scope": ', "the policy is not valid JSON", id="text-not-json"),
        pytest.param("", "the policy is empty", id="empty"),
        pytest.param(
            acme(group_doc("lead", "lead"), scope={"kind": "project", "value": "other"}),
            "this page edits the policy of acme (project), but the JSON names other (project)",
            id="other-scope",
        ),
    ],
)
def test_a_refused_draft_is_explained_and_nothing_is_stored(
    app: TestApp, registry: Registry, draft: Any, reason: str
) -> None:
    login(app, "lead")
    before = stored(registry)
    answer = check(app, draft)
    assert answer["valid"] is False
    assert reason in answer["reason"]
    assert set(answer) == {"valid", "reason"}
    assert stored(registry) == before


def test_someone_who_may_not_manage_the_scope_gets_a_403(app: TestApp, registry: Registry) -> None:
    registry.set_policy(brief_policy())
    registry.session.commit()
    login(app, "bob")  # an approver of acme, but not an owner
    answer = check(app, brief_policy(version=2).to_dict(), status=403)
    assert answer == {"error": "bob may not set the policy of acme"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b'{"policy": ', "the request body is not JSON", id="not-json"),
        pytest.param(b"[]", "the request body must be a JSON object, got an array", id="array"),
        pytest.param(b'{"policy": {"version": 1}}', 'send {"policy": "<the policy as JSON text>"}', id="object"),
        pytest.param(b"{}", 'send {"policy": "<the policy as JSON text>"}', id="missing"),
    ],
)
def test_a_body_that_is_not_the_editors_is_a_400(app: TestApp, registry: Registry, body: bytes, message: str) -> None:
    login(app, "lead")
    headers = {"X-CSRF-Token": csrf(app, PAGE), "Accept": "application/json"}
    answer = app.post(CHECK, body, content_type="application/json", headers=headers, status=400).json
    assert message in answer["error"]


def test_tokens_and_pages_without_the_csrf_token_get_no_answer(app: TestApp, registry: Registry) -> None:
    draft = brief_policy().to_dict()
    token = app.get(PAGE, headers=CI_TOKEN, status=403).html.find("meta", {"name": "csrf-token"})["content"]
    refused = check(app, draft, status=403, **{"X-CSRF-Token": token}, **CI_TOKEN)
    assert "API tokens and basic auth cannot" in refused["error"]
    login(app, "lead")
    assert "this page expired" in check(app, draft, status=400, **{"X-CSRF-Token": "forged"})["error"]


def test_the_page_offers_the_form_editor_with_the_people_it_may_name(app: TestApp, registry: Registry) -> None:
    registry.invite(ACME, "bob")
    registry.invite(ACME, "cora")
    registry.invitations.invite("lead", ACME, "dave", registry.now)  # not accepted: not offered
    registry.session.commit()
    login(app, "lead")
    page = app.get(PAGE)
    form = page.html.find(id="policy-form")
    assert form["data-check"] == CHECK
    assert json.loads(form["data-candidates"]) == ["bob", "cora", "lead"]
    assert page.html.find(id="policy-submit").text == "Save"  # the first policy applies at once
    assert page.html.find(id="policy-builder").has_attr("hidden")  # until policy.js runs
    assert page.html.find(id="policy-advanced").has_attr("open")  # without JavaScript, the JSON is the editor
    registry.set_policy(brief_policy())
    registry.session.commit()
    assert app.get(PAGE).html.find(id="policy-submit").text == "Propose"
