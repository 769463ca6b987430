"""The policy page: owners set the first policy; every later change is a request approved under the
policy in force (I5); bad input is a 400 that stores nothing (I10); only browser sessions get in (I3)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, group
from tests.functional.conftest import login
from tpp_core import Policy, Scope
from tpp_warehouse.models import AuditRecord, PolicyRecord, RequestRecord

ACME = Scope.project("acme")
PAGE = "/tpp/policies/project/acme"
CI_TOKEN = {"Authorization": "Basic " + base64.b64encode(b"__token__:ci-secret").decode()}


def propose(app: TestApp, document: Any, status: int | str = 303, page: str = PAGE) -> Any:
    """Fill the page's editor with ``document`` (JSON text, or a value to dump) and submit it."""
    form = app.get(page).forms["policy-form"]
    form["policy"] = document if isinstance(document, str) else json.dumps(document)
    return form.submit(status=status)


def stored(registry: Registry) -> tuple[int, int, int]:
    """How many policy versions, requests and audit entries the database holds."""
    registry.session.rollback()  # a fresh snapshot of what the app committed
    count = registry.session.scalar
    return (
        count(select(func.count()).select_from(PolicyRecord)) or 0,
        count(select(func.count()).select_from(RequestRecord)) or 0,
        count(select(func.count()).select_from(AuditRecord)) or 0,
    )


def v2() -> Policy:
    """The brief's policy with Erin joining the company group."""
    return Policy(
        scope=ACME,
        version=2,
        groups=(
            group("lead", "lead"),
            group("core-team", "lead", "cora", "bob", excluded=("lead",)),
            group("company", "lead", "cora", "dave", "erin", excluded=("lead",)),
        ),
    )


def test_an_owner_invites_approvers_then_sets_the_first_policy(app: TestApp, registry: Registry) -> None:
    login(app, "lead", registry)
    page = app.get(PAGE)
    assert page.html.find(id="no-policy") is not None
    draft = json.loads(page.forms["policy-form"]["policy"].value)
    assert (draft["scope"], draft["version"]) == ({"kind": "project", "value": "acme"}, 1)

    # Nobody is named before they agree: the editor says whom to invite, and nothing is stored.
    refused = propose(app, brief_policy().to_dict(), status=400)
    assert "bob, cora, dave have not accepted an invitation to approve for acme" in refused.text
    for person in ("bob", "cora", "dave"):
        form = app.get(PAGE).forms["invite-form"]
        form["person"] = person
        assert f"{person} is invited" in form.submit(status=303).follow().text
    invited = app.get(PAGE).html.select("tr.invitation")
    assert [" ".join(tr.text.split()) for tr in invited] == [
        f"{p} lead not answered yet" for p in ("bob", "cora", "dave")
    ]
    for person in ("bob", "cora", "dave"):
        login(app, person, registry)
        waiting = app.get("/tpp/requests")
        [item] = waiting.html.select("li.invitation")
        assert " ".join(item.text.split()).startswith("lead invites you to approve for project acme.")
        accepted = waiting.forms[0].submit(status=303).follow()
        assert "You accepted; lead may now name you in the policy of acme." in accepted.text
        assert not accepted.html.select("li.invitation")
    login(app, "lead", registry)

    answer = propose(app, brief_policy().to_dict())
    assert answer.location == "http://localhost:6543/tpp/policies/project/acme"
    shown = answer.follow()
    assert shown.html.find(id="policy-version").text == "1"
    assert "Version 1 of the policy of acme is now in force." in shown.text
    rows = [[td.text.strip() for td in tr.find_all("td")] for tr in shown.html.select("tr.policy-group")]
    assert rows == [  # the same table as the approval page's
        ["lead", "1", "lead", "nobody"],
        ["core-team", "1", "bob, cora, lead", "lead"],
        ["company", "1", "cora, dave, lead", "lead"],
    ]
    assert "first policy, set by an owner" in shown.html.find(id="versions").text
    # the editor now offers the next version, built from the policy in force
    assert json.loads(shown.forms["policy-form"]["policy"].value) == brief_policy(version=2).to_dict()
    registry.session.rollback()
    assert registry.policies.current(ACME) == brief_policy()


def test_exclusions_show_the_uploader_and_named_people(app: TestApp, registry: Registry) -> None:
    policy = Policy(
        scope=ACME, version=1, groups=(group("team", "lead", "cora", "bob", excluded=("bob",), no_uploader=True),)
    )
    registry.set_policy(policy)
    registry.session.commit()
    login(app, "cora", registry)
    [row] = app.get(PAGE).html.select("tr.policy-group")
    assert row.find_all("td")[3].text == "bob; the uploader"


def test_a_prefix_policy_is_set_by_an_admin(app: TestApp, registry: Registry) -> None:
    login(app, "root", registry)
    document = {"scope": {"kind": "prefix", "value": "acme-"}, "version": 1, "groups": [group_doc("owners", "root")]}
    answer = propose(app, document, page="/tpp/policies/prefix/acme-")
    assert answer.location.endswith("/tpp/policies/prefix/acme-")
    registry.session.rollback()
    assert registry.policies.current(Scope.prefix("acme-")) == Policy.from_dict(document)


def test_a_non_owner_sees_the_page_read_only_and_may_not_propose(app: TestApp, registry: Registry) -> None:
    registry.set_policy(brief_policy())
    registry.session.commit()
    login(app, "bob", registry)
    before = stored(registry)
    page = app.get(PAGE)
    assert page.html.find(id="read-only") is not None
    assert "policy-form" not in page.forms
    token = page.html.find("meta", {"name": "csrf-token"})["content"]
    document = json.dumps(brief_policy(version=2).to_dict())
    refused = app.post(PAGE, {"policy": document, "csrf_token": token}, status=403)
    assert "bob may not set the policy of acme" in refused.text
    assert stored(registry) == before


def test_a_non_owner_may_not_set_the_first_policy(app: TestApp, registry: Registry) -> None:
    login(app, "bob", registry)
    before = stored(registry)
    token = app.get(PAGE).html.find("meta", {"name": "csrf-token"})["content"]
    app.post(PAGE, {"policy": json.dumps(brief_policy().to_dict()), "csrf_token": token}, status=403)
    assert stored(registry) == before


def test_a_change_takes_effect_only_once_the_current_approvers_approve(app: TestApp, registry: Registry) -> None:
    """I5: proposing v2 opens a request; v1 stays in force until its three seats are filled."""
    registry.enrol("lead", "cora", "dave")
    registry.set_policy(brief_policy())
    registry.invite(ACME, "erin")
    registry.session.commit()
    login(app, "lead", registry)

    answer = propose(app, v2().to_dict())
    request_id = answer.location.rsplit("/", 1)[1]
    assert answer.location == f"http://localhost:6543/tpp/requests/{request_id}"
    registry.session.rollback()
    change = registry.approvals.get(request_id)
    assert change.subject.proposed == v2()  # type: ignore[union-attr]

    def in_force() -> int:
        registry.session.commit()
        page = app.get(PAGE)
        version = int(page.html.find(id="policy-version").text)
        policy = registry.policies.current(ACME)
        assert policy is not None
        assert policy.version == version
        return version

    assert in_force() == 1  # a proposed edit alone changes nothing
    pending = app.get(PAGE).html.find(id="pending")
    assert pending.find("a")["href"] == f"/tpp/requests/{request_id}"
    assert "version 2" in pending.text
    registry.approve(request_id, "lead")
    assert in_force() == 1
    registry.approve(request_id, "cora")
    assert in_force() == 1  # cora fills one seat only, though she is in two groups
    registry.approve(request_id, "dave")
    assert in_force() == 2
    page = app.get(PAGE)
    assert page.html.find(id="pending") is None  # applied: nothing awaits approval any more
    assert "erin" in page.html.find(id="in-force").text
    link = page.html.find(id="versions").find("a")
    assert link["href"] == f"/tpp/requests/{request_id}"
    assert json.loads(page.forms["policy-form"]["policy"].value)["version"] == 3


def group_doc(name: str, *members: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "members": list(members), **fields}


def acme(*groups: dict[str, Any], version: int = 1, scope: Any = None) -> dict[str, Any]:
    return {"scope": scope or {"kind": "project", "value": "acme"}, "version": version, "groups": list(groups)}


BAD_FIRST_POLICIES = [
    pytest.param(
        '{"scope": {"kind": "project", "value": "acme"}, "version": 1, "groups": [', "not valid JSON", id="json"
    ),
    pytest.param("", "the policy is empty", id="empty"),
    pytest.param("[" * 100_001 + "]" * 100_001, "at most 200000", id="too-long"),
    pytest.param("[" * 50_000 + "]" * 50_000, "nesting too deep", id="too-deep"),
    pytest.param("1" * 5000, "a number too long", id="huge-number"),
    pytest.param(json.dumps([acme(group_doc("lead", "lead"))]), "policy: expected an object", id="array"),
    pytest.param(
        json.dumps({"scope": {"kind": "project", "value": "acme"}, "version": 1}), "missing groups", id="no-groups"
    ),
    pytest.param(json.dumps(acme()), "at least one approval group", id="empty-groups"),
    pytest.param(json.dumps(acme(group_doc("lead", "lead", seats=0))), "seats must be a whole number", id="seats-0"),
    pytest.param(
        json.dumps(acme(group_doc("lead", "lead", seats="1"))), "seats must be a whole number", id="seats-str"
    ),
    pytest.param(
        json.dumps(acme(group_doc("lead", "lead"), version=0)), "version must be a whole number", id="version-0"
    ),
    pytest.param(json.dumps(acme(group_doc("lead", "lead"), version=2)), "must be version 1, not 2", id="version-2"),
    pytest.param(json.dumps(acme(group_doc("lead", "not a person!"))), "invalid person id", id="person"),
    pytest.param(json.dumps(acme(group_doc("lead", ["lead"]))), "invalid person id", id="nested-person"),
    pytest.param(json.dumps(acme(group_doc("lead", "lead", colour="red"))), "unknown field(s) colour", id="unknown"),
    pytest.param(
        json.dumps(acme(group_doc("core", "lead", "cora", seats=2, excluded=["lead"]))),
        "needs 2 approver(s) but only 1 eligible member(s)",
        id="lockout-group",
    ),
    pytest.param(
        json.dumps(acme(group_doc("lead", "lead"), group_doc("deputy", "lead"))),
        "could not be filled",
        id="lockout-distinct",
    ),
    pytest.param(
        json.dumps(acme(group_doc("lead", "lead"), scope={"kind": "project", "value": "other"})),
        "this page edits the policy of acme (project), but the JSON names other (project)",
        id="other-project",
    ),
    pytest.param(
        json.dumps(acme(group_doc("lead", "lead"), scope={"kind": "prefix", "value": "acme"})),
        "but the JSON names acme* (prefix)",
        id="prefix-not-project",
    ),
    pytest.param(
        json.dumps(acme(group_doc("lead", "lead"), scope={"kind": "team", "value": "acme"})),
        "scope.kind: expected 'project' or 'prefix'",
        id="scope-kind",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_FIRST_POLICIES)
def test_a_bad_policy_is_a_400_that_keeps_the_draft_and_stores_nothing(
    app: TestApp, registry: Registry, text: str, message: str
) -> None:
    login(app, "lead", registry)
    before = stored(registry)
    page = propose(app, text, status=400)
    error = page.html.find(id="policy-error")
    assert error is not None
    assert message in error.text
    assert page.forms["policy-form"]["policy"].value == text
    assert stored(registry) == before


@pytest.mark.parametrize(
    ("version", "message"),
    [(1, "must propose v2 of the same scope, not acme v1"), (3, "must propose v2 of the same scope, not acme v3")],
)
def test_a_change_must_propose_the_next_version(app: TestApp, registry: Registry, version: int, message: str) -> None:
    registry.set_policy(brief_policy())
    registry.session.commit()
    login(app, "lead", registry)
    before = stored(registry)
    page = propose(app, brief_policy(version=version).to_dict(), status=400)
    assert message in page.html.find(id="policy-error").text
    assert stored(registry) == before


def test_a_lockout_change_is_refused_before_any_request_opens(app: TestApp, registry: Registry) -> None:
    registry.set_policy(brief_policy())
    registry.session.commit()
    login(app, "lead", registry)
    before = stored(registry)
    lockout = acme(group_doc("core", "lead", "cora", seats=2, excluded=["lead"]), version=2)
    page = propose(app, lockout, status=400)
    assert "needs 2 approver(s) but only 1 eligible member(s)" in page.html.find(id="policy-error").text
    assert page.html.find(id="policy-version").text == "1"
    assert stored(registry) == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tpp/policies/team/acme", 404),
        ("/tpp/policies/projects/acme", 404),
        ("/tpp/policies/project/-acme", 400),
        ("/tpp/policies/project/ac%20me", 400),
        ("/tpp/policies/prefix/%2A", 400),
    ],
)
def test_a_bad_scope_in_the_address_is_a_4xx(app: TestApp, path: str, status: int, registry: Registry) -> None:
    login(app, "lead", registry)
    page = app.get(path, status=status)
    assert page.html.find("p", class_="error").text
    token = page.html.find("meta", {"name": "csrf-token"})["content"]
    app.post(path, {"policy": json.dumps(brief_policy().to_dict()), "csrf_token": token}, status=status)


def test_a_non_canonical_address_redirects_to_the_scope_page(app: TestApp, registry: Registry) -> None:
    login(app, "lead", registry)
    answer = app.get("/tpp/policies/project/Acme", status=303)
    assert answer.location == "http://localhost:6543/tpp/policies/project/acme"


def _session_token_without_person(app: TestApp) -> str:
    """A CSRF token of a session nobody signed into: what a script can obtain from an error page."""
    page = app.get(PAGE, headers=CI_TOKEN, status=403)
    return str(page.html.find("meta", {"name": "csrf-token"})["content"])


@pytest.mark.parametrize("headers", [CI_TOKEN, {}], ids=["api-token", "no-credential"])
def test_tokens_and_strangers_cannot_read_or_change_policies(
    app: TestApp, registry: Registry, headers: dict[str, str]
) -> None:
    """I3: an API token is no session, not even with a valid CSRF token of an anonymous session."""
    page = app.get(PAGE, headers=headers, status=403)
    assert "API tokens and basic auth cannot" in page.html.find("p", class_="error").text
    token = _session_token_without_person(app)
    document = json.dumps(brief_policy().to_dict())
    app.post(PAGE, {"policy": document, "csrf_token": token}, headers=headers, status=403)
    app.post(PAGE, {"policy": document}, headers=headers, status=400)  # and no CSRF token: refused earlier
    assert stored(registry) == (0, 0, 0)


@pytest.mark.parametrize("token", [None, "", "forged"], ids=["missing", "empty", "forged"])
def test_a_post_without_the_csrf_token_is_refused(app: TestApp, registry: Registry, token: str | None) -> None:
    login(app, "lead", registry)
    before = stored(registry)
    fields = {"policy": json.dumps(brief_policy().to_dict())}
    if token is not None:
        fields["csrf_token"] = token
    app.post(PAGE, fields, status=400)
    assert stored(registry) == before


def test_the_page_sends_no_inline_script_and_forbids_it(app: TestApp, registry: Registry) -> None:
    login(app, "lead", registry)
    page = app.get(PAGE)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert all(script.get("src") for script in page.html.find_all("script"))
    assert not page.html.find_all(style=True)


def test_odd_form_bodies_are_a_400_that_stores_nothing(app: TestApp, registry: Registry) -> None:
    login(app, "lead", registry)
    before = stored(registry)
    token = app.get(PAGE).html.find("meta", {"name": "csrf-token"})["content"]
    document = json.dumps(brief_policy().to_dict()).encode()
    as_file = app.post(PAGE, {"csrf_token": token}, upload_files=[("policy", "policy.json", document)], status=400)
    assert "not as a file" in as_file.html.find(id="policy-error").text
    garbled = app.post(
        PAGE, f"policy=%FF%FE&csrf_token={token}", content_type="application/x-www-form-urlencoded", status=400
    )
    assert "not valid JSON" in garbled.html.find(id="policy-error").text
    as_json = app.post_json(PAGE, brief_policy().to_dict(), headers={"X-CSRF-Token": token}, status=400)
    assert "the policy is empty" in as_json.text
    assert stored(registry) == before
