"""The approval pages over HTTP: what waits for you, the approval page's facts, and deciding with
WebAuthn, as ``static/request.js`` does it (invariants I2, I3, I7, I9, I10).

Policies and uploads are set up through the services (their pages and the upload hook are tested
elsewhere); everything a person does here goes through the app.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from webtest import TestApp

from tests.common.authenticator import ALG_EDDSA, ALG_ES256, ALG_RS256, SoftAuthenticator
from tests.common.registry import Registry
from tests.common.scenario import brief_policy, group
from tests.common.webapp import ORIGIN, WebHost
from tests.functional.test_devices_pages import (
    SESSION_REQUIRED,
    TOKEN,
    assert_no_inline_code,
    browser,
    enrol,
    post_json,
    token_of,
)
from tpp_core import (
    ApprovalRequest,
    Policy,
    Publish,
    Purge,
    ReleaseFile,
    RequestId,
    RequestState,
    Scope,
    Sha256,
)
from tpp_warehouse.security import CSP

APPROVERS = ("lead", "cora", "dave")


def release_file(name: str, content: bytes) -> ReleaseFile:
    return ReleaseFile(filename=name, sha256=Sha256(hashlib.sha256(content).hexdigest()), size=len(content))


WHEEL = release_file("acme-1.0-py3-none-any.whl", b"wheel bytes" * 100)
SDIST = release_file("acme-1.0.tar.gz", b"sdist bytes" * 300)


@dataclass
class Person:
    """A signed-in browser and the authenticator enrolled through it."""

    client: TestApp
    key: SoftAuthenticator


class World:
    """The app, the services on the same database, and people who enrolled over HTTP."""

    def __init__(self, app: TestApp, registry: Registry, host: WebHost) -> None:
        self.app, self.registry, self.host = app, registry, host
        self.people: dict[str, Person] = {}

    def person(self, name: str, alg: int = ALG_ES256) -> Person:
        if name not in self.people:
            client, key = browser(self.app, name), SoftAuthenticator(alg=alg)
            answer = enrol(client, key, f"{name}'s phone")
            assert answer.status_int == 200, answer.text
            self.people[name] = Person(client, key)
        return self.people[name]

    def policy(self, policy: Policy, by: str = "lead") -> RequestId | None:
        request_id = self.registry.set_policy(policy, by=by)
        self.registry.session.commit()
        return request_id

    def upload(self, version: str, *files: ReleaseFile) -> ApprovalRequest:
        request = self.registry.upload("acme", version, *files)
        assert request is not None
        self.registry.session.commit()
        return request

    def stored(self, request_id: str) -> ApprovalRequest:
        self.registry.session.commit()  # a fresh transaction sees what the app committed
        return self.registry.approvals.get(RequestId(request_id))

    # --- what request.js does -------------------------------------------------------------------

    def begin(self, name: str, request_id: str, verdict: str, *, status: int | str = 200) -> Any:
        return post_json(
            self.person(name).client, f"/tpp/requests/{request_id}/begin", {"verdict": verdict}, status=status
        )

    def sign(
        self, name: str, request_id: str, verdict: str, *, key: SoftAuthenticator | None = None, **knobs: Any
    ) -> dict[str, Any]:
        """The decide body for ``name``'s decision: begin, then the authenticator's assertion."""
        ceremony = self.begin(name, request_id, verdict).json
        assertion = (key or self.person(name).key).get(json.loads(ceremony["options"]), ORIGIN, **knobs)
        return {"verdict": verdict, "ceremony": {"id": ceremony["id"], "credential": json.dumps(assertion)}}

    def decide(self, name: str, request_id: str, body: Any, *, status: int | str = 200) -> Any:
        return post_json(self.person(name).client, f"/tpp/requests/{request_id}/decide", body, status=status)

    def approve(self, name: str, request_id: str) -> Any:
        return self.decide(name, request_id, self.sign(name, request_id, "approve"))

    def page(self, name: str, request_id: str) -> Any:
        return self.person(name).client.get(f"/tpp/requests/{request_id}")


@pytest.fixture
def world(app: TestApp, registry: Registry, host: WebHost) -> World:
    return World(app, registry, host)


@pytest.fixture
def release(world: World) -> ApprovalRequest:
    """acme 1.0 (a wheel and an sdist) awaiting lead, cora and dave under the brief's policy."""
    world.policy(brief_policy())
    for name in APPROVERS:
        world.person(name)
    return world.upload("1.0", WHEEL, SDIST)


def table(page: Any, table_id: str) -> list[list[str]]:
    """Each row's cells as a person reads them: the words of each cell, one space apart."""
    rows = page.html.find("table", id=table_id).find("tbody").find_all("tr")
    return [[" ".join(cell.get_text(" ").split()) for cell in row.find_all(["th", "td"])] for row in rows]


def facts(page: Any) -> dict[str, str]:
    return {row[0]: row[1] for row in table(page, "facts")}


def missing(page: Any) -> list[str]:
    found = page.html.find("ul", id="missing")
    return [] if found is None else [item.get_text(strip=True) for item in found.find_all("li")]


def state(page: Any) -> str:
    return str(page.html.find(id="state").get_text(strip=True))


def can_decide(page: Any) -> bool:
    return page.html.find(id="decide") is not None


# --- the journey -------------------------------------------------------------------------------------


def test_the_whole_journey(world: World, app: TestApp) -> None:
    # Ann enrols a first device, then a second one vouched for by the first.
    ann = browser(app, "ann")
    phone, laptop = SoftAuthenticator(), SoftAuthenticator()
    assert enrol(ann, phone, "phone").status_int == 200
    assert "phone" in ann.get("/tpp/devices").html.find("table", id="devices").text
    assert enrol(ann, laptop, "laptop").status_int == 403
    assert enrol(ann, laptop, "laptop", voucher=phone).status_int == 200

    # An owner sets the brief's policy; the approvers enrol; CI uploads.
    world.policy(brief_policy())
    for name in APPROVERS:
        world.person(name)
    request = world.upload("1.0", WHEEL, SDIST)
    assert world.host.published == []

    # It waits for the lead, who finds every fact on the approval page.
    [row] = table(world.person("lead").client.get("/tpp/requests"), "requests")
    assert row[:2] == ["acme 1.0", "ci"]
    link = world.person("lead").client.get("/tpp/requests").html.find("table", id="requests").find("a")["href"]
    assert link == f"/tpp/requests/{request.id}"

    page = world.page("lead", request.id)
    assert page.html.find("h1").text == "acme 1.0"
    assert state(page) == "verifying"
    assert facts(page)["Project"] == "acme"
    assert facts(page)["Version"] == "1.0"
    assert facts(page)["Uploaded by"] == "ci"
    assert facts(page)["Opened"].endswith(" UTC")
    assert facts(page)["Expires"].endswith(" UTC")
    assert table(page, "files") == [[f.filename, str(f.size), f.sha256] for f in (WHEEL, SDIST)]
    assert missing(page) == [str(s) for s in request.quorum.missing]
    assert missing(page) == [
        "lead needs 1 more; eligible: lead",
        "core-team needs 1 more; eligible: bob, cora",
        "company needs 1 more; eligible: cora, dave",
    ]
    assert can_decide(page)
    assert "Nobody has decided yet." in page.text

    # Lead and cora approve: cora fills one seat only, so the company still needs dave.
    first = world.approve("lead", request.id).json
    assert first == {"state": "verifying", "quorum": str(world.stored(request.id).quorum)}
    assert world.approve("cora", request.id).json["state"] == "verifying"
    page = world.page("dave", request.id)
    assert missing(page) == ["company needs 1 more; eligible: bob, dave"]  # bob would let cora move over
    assert [row[:2] for row in table(page, "decisions")] == [["lead", "approve"], ["cora", "approve"]]
    assert not can_decide(world.page("lead", request.id))
    assert world.person("lead").client.get("/tpp/requests").html.find("table", id="requests") is None
    assert world.host.published == []

    # Dave's approval completes the quorum: the release is published, exactly these files.
    assert world.approve("dave", request.id).json == {"state": "approved", "quorum": "satisfied"}
    [published] = world.host.published
    assert isinstance(published, Publish)
    assert published.request_id == request.id
    assert published.release.files == (WHEEL, SDIST)
    page = ann.get(f"/tpp/requests/{request.id}")  # anyone signed in may look
    assert state(page) == "approved"
    assert missing(page) == []
    assert not can_decide(page)
    seats = {row[0]: row[4] for row in table(page, "groups")}
    assert seats == {"lead": "lead", "core-team": "cora", "company": "dave"}

    # A rejection of the next release stops it, and its files are purged.
    second = world.upload("2.0", release_file("acme-2.0.tar.gz", b"evil"))
    body = {**world.sign("dave", second.id, "reject"), "reason": "we did not release this"}
    assert world.decide("dave", second.id, body).json["state"] == "rejected"
    [purged] = world.host.purged
    assert isinstance(purged, Purge)
    assert purged.request_id == second.id
    assert [f.filename for f in purged.files] == ["acme-2.0.tar.gz"]
    assert len(world.host.published) == 1
    page = world.page("lead", second.id)
    assert state(page) == "rejected"
    assert page.html.find(id="reason").text == "Reason given: we did not release this"
    assert [row[:2] for row in table(page, "decisions")] == [["dave", "reject"]]
    assert not can_decide(page)
    assert world.begin("lead", second.id, "approve", status=409).json["error"].endswith("there is nothing to decide")


@pytest.mark.parametrize("alg", [ALG_ES256, ALG_EDDSA, ALG_RS256], ids=["ES256", "Ed25519", "RS256"])
def test_a_device_of_each_algorithm_enrols_and_approves(world: World, alg: int) -> None:
    """RS256 too: Windows Hello and some security keys offer nothing else."""
    world.policy(Policy(scope=Scope.project("acme"), version=1, groups=(group("lead", "lead"),)))
    world.person("lead", alg)
    request = world.upload("1.0", WHEEL)
    assert world.approve("lead", request.id).json["state"] == "approved"
    [published] = world.host.published
    assert isinstance(published, Publish)
    assert published.release.files == (WHEEL,)


def test_the_index_an_upload_went_to_is_shown_where_the_host_names_one(world: World) -> None:
    world.policy(brief_policy())
    world.person("cora")
    to_dev = world.registry.upload("acme", "1.0", WHEEL, index="lead/dev")
    single = world.registry.upload("acme", "2.0", release_file("acme-2.0.tar.gz", b"2"))  # a host of one index
    assert to_dev is not None
    assert single is not None
    # Later files, uploaded elsewhere, join the request; it keeps the index that opened it.
    world.registry.upload("acme", "1.0", SDIST, index="cora/dev")
    world.registry.session.commit()

    assert facts(world.page("cora", to_dev.id))["Index"] == "uploaded to lead/dev"
    assert "Index" not in facts(world.page("cora", single.id))
    rows = table(world.person("cora").client.get("/tpp/requests"), "requests")
    assert sorted(row[0] for row in rows) == ["acme 1.0 to lead/dev", "acme 2.0"]


def test_a_policy_change_shows_the_proposed_policy(world: World) -> None:
    world.policy(brief_policy())
    proposed = Policy(
        scope=Scope.project("acme"),
        version=2,
        groups=(
            group("lead", "lead"),
            group("maintainers", "cora", "bob", "dave", "eve", seats=2, excluded=("bob",), no_uploader=True),
        ),
    )
    request_id = world.policy(proposed)
    assert request_id is not None
    for name in APPROVERS:
        world.person(name)

    page = world.page("cora", request_id)
    assert page.html.find("h1").text == "Policy change of acme"
    assert "Project" not in facts(page)
    assert facts(page)["Proposed by"] == "lead"
    proposed_rows = table(page, "proposed")
    assert proposed_rows == [
        ["lead", "1", "lead", "nobody"],
        ["maintainers", "2", "bob, cora, dave, eve", "bob; the uploader"],
    ]
    assert page.html.find(id="files") is None
    diff = [" ".join(li.text.split()) for li in page.html.find(id="policy-diff").select("ul.diff > li")]
    assert diff == [
        "Added group maintainers: 2 seats; members bob, cora, dave, eve; not counted: bob, the uploader",
        "Removed group core-team (1 seat; members bob, cora, lead)",
        "Removed group company (1 seat; members cora, dave, lead)",
    ]
    assert can_decide(page)
    [row] = table(world.person("dave").client.get("/tpp/requests"), "requests")
    assert row[:2] == ["policy change of acme", "lead"]

    for name in APPROVERS:
        world.approve(name, request_id)
    assert state(world.page("lead", request_id)) == "approved"
    world.registry.session.commit()
    current = world.registry.policies.current(Scope.project("acme"))
    assert current is not None
    assert current.version == 2


def test_the_uploader_or_an_owner_may_withdraw(world: World, release: ApprovalRequest) -> None:
    # Dave may decide but is no owner: no button, and the endpoint refuses.
    dave = world.person("dave").client
    assert world.page("dave", release.id).html.find("form", action=f"/tpp/requests/{release.id}/cancel") is None
    refused = dave.post(f"/tpp/requests/{release.id}/cancel", {"csrf_token": token_of(dave)}, expect_errors=True)
    assert refused.status_int == 403
    assert "only the uploader or an owner" in refused.html.find("p", class_="error").text
    assert world.stored(release.id).state is RequestState.VERIFYING

    # Cora owns acme (the test host says so).
    page = world.page("cora", release.id)
    form = next(f for f in page.forms.values() if f.action == f"/tpp/requests/{release.id}/cancel")
    answer = form.submit(status=303)
    assert answer.location.endswith(f"/tpp/requests/{release.id}")
    page = answer.follow()
    assert state(page) == "cancelled"
    assert "The request was withdrawn" in page.text
    assert [p.request_id for p in world.host.purged] == [release.id]
    assert world.host.published == []


# --- attackers -----------------------------------------------------------------------------------------


def test_a_replayed_decision_is_refused(world: World, release: ApprovalRequest) -> None:
    body = world.sign("lead", release.id, "approve")
    assert world.decide("lead", release.id, body).status_int == 200
    replay = world.decide("lead", release.id, body, status=400)
    assert "already used" in replay.json["error"]
    assert [d.person for d in world.stored(release.id).decisions] == ["lead"]


def test_an_assertion_for_another_request_is_refused(world: World, release: ApprovalRequest) -> None:
    other = world.upload("1.1", release_file("acme-1.1.tar.gz", b"other"))
    for_release = world.sign("lead", release.id, "approve")

    # Sent to the other request as it is: the ceremony was started for another request.
    answer = world.decide("lead", other.id, for_release, status=400)
    assert "started for something else" in answer.json["error"]

    # With a ceremony of the other request: the signed challenge is not that request's.
    ceremony = world.begin("lead", other.id, "approve").json
    spliced = {**for_release, "ceremony": {**for_release["ceremony"], "id": ceremony["id"]}}
    answer = world.decide("lead", other.id, spliced, status=400)
    assert "made for another page or request" in answer.json["error"]

    assert world.stored(other.id).decisions == ()
    assert world.stored(release.id).decisions == ()


def test_an_approval_ceremony_cannot_reject(world: World, release: ApprovalRequest) -> None:
    body = world.sign("lead", release.id, "approve")
    answer = world.decide("lead", release.id, {**body, "verdict": "reject"}, status=400)
    assert "started for something else" in answer.json["error"]
    assert world.stored(release.id).state is RequestState.VERIFYING
    assert world.host.purged == []


def test_files_added_after_the_page_was_shown_make_the_answer_fail(world: World, release: ApprovalRequest) -> None:
    body = world.sign("lead", release.id, "approve")
    world.upload("1.0", release_file("acme-1.0-py2-none-any.whl", b"late"))
    answer = world.decide("lead", release.id, body, status=400)
    assert "made for another page or request" in answer.json["error"]
    assert world.stored(release.id).decisions == ()


def test_a_non_member_is_refused(world: World, release: ApprovalRequest) -> None:
    page = world.page("eve", release.id)  # anyone signed in may look
    assert not can_decide(page)
    answer = world.begin("eve", release.id, "approve", status=403)
    assert answer.json == {"error": f"eve is not an eligible approver of request {release.id}"}
    # Nor can eve use a ceremony the lead started.
    answer = world.decide("eve", release.id, world.sign("lead", release.id, "approve"), status=400)
    assert "started for something else" in answer.json["error"]
    assert world.stored(release.id).decisions == ()


def test_another_persons_device_is_refused(world: World, release: ApprovalRequest) -> None:
    body = world.sign("lead", release.id, "approve", key=world.person("cora").key)
    answer = world.decide("lead", release.id, body, status=403)
    assert answer.json == {"error": "this security key or passkey is not one of your enrolled devices"}
    assert world.stored(release.id).decisions == ()


def test_user_verification_is_required(world: World, release: ApprovalRequest) -> None:
    body = world.sign("lead", release.id, "approve", user_verified=False)
    answer = world.decide("lead", release.id, body, status=400)
    assert answer.json == {"error": "user verification (PIN or biometrics) is required"}
    assert world.stored(release.id).decisions == ()


def test_a_person_without_a_device_is_told_to_enrol(world: World, release: ApprovalRequest, app: TestApp) -> None:
    bob = browser(app, "bob")  # in core-team, but never enrolled a device
    page = bob.get(f"/tpp/requests/{release.id}")
    assert page.html.find(id="decide") is None  # no button that could only fail
    assert "none of your devices may approve yet" in " ".join(page.html.find(id="device-needed").text.split())
    answer = post_json(bob, f"/tpp/requests/{release.id}/begin", {"verdict": "approve"}, status=403)
    assert "has no device that may approve yet" in answer.json["error"]


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the request body is not JSON"),
        (b"", "the request body is not JSON"),
        (b"[]", "the request body must be a JSON object, got an array"),
        (b'["approve"]', "the request body must be a JSON object, got an array"),
        (b"42", "the request body must be a JSON object, got a number"),
        (b"{}", '"verdict" is missing'),
        (b'{"verdict": null}', '"verdict" must be text, got null'),
        (b'{"verdict": "yes"}', '"verdict" must be "approve" or "reject", got \'yes\''),
        (b'{"verdict": "APPROVE"}', '"verdict" must be "approve" or "reject", got \'APPROVE\''),
    ],
)
@pytest.mark.parametrize("endpoint", ["begin", "decide"])
def test_a_malformed_body_is_refused(
    world: World, release: ApprovalRequest, endpoint: str, body: bytes, message: str
) -> None:
    lead = world.person("lead").client
    answer = lead.post(
        f"/tpp/requests/{release.id}/{endpoint}",
        body,
        content_type="application/json",
        headers={"X-CSRF-Token": token_of(lead)},
        expect_errors=True,
    )
    assert answer.status_int == 400
    assert answer.json == {"error": message}
    assert world.stored(release.id).decisions == ()


@pytest.mark.parametrize(
    ("ceremony", "message"),
    [
        (None, '"ceremony" is missing'),
        ("abc", '"ceremony" must be an object with "id" and "credential", got text'),
        ({}, '"ceremony.id" is missing'),
        ({"credential": "{}"}, '"ceremony.id" is missing'),
        ({"id": 1, "credential": "{}"}, '"ceremony.id" must be text, got a number'),
        ({"id": "x"}, '"ceremony.credential" is missing'),
        ({"id": "x", "credential": None}, '"ceremony.credential" must be an object or JSON text, got null'),
        ({"id": "x", "credential": [1]}, '"ceremony.credential" must be an object or JSON text, got an array'),
        ({"id": "x", "credential": "{}"}, "this confirmation is unknown or was already used; please start again"),
    ],
)
def test_a_malformed_ceremony_is_refused(world: World, release: ApprovalRequest, ceremony: Any, message: str) -> None:
    body: dict[str, Any] = {"verdict": "approve"}
    if ceremony is not None:
        body["ceremony"] = ceremony
    answer = world.decide("lead", release.id, body, status=400)
    assert answer.json == {"error": message}
    assert world.stored(release.id).decisions == ()


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ("x" * (20 * 1024), "the credential is larger than 16384 characters of JSON"),
        ({"padding": "x" * (20 * 1024)}, "the credential is larger than 16384 characters of JSON"),
        ("{not json", "the credential is not JSON"),
        ("[]", "the credential is not a JSON object"),
        ({"type": "public-key"}, "rawId"),
    ],
)
def test_a_malformed_credential_is_refused(
    world: World, release: ApprovalRequest, credential: Any, message: str
) -> None:
    ceremony = world.begin("lead", release.id, "approve").json
    body = {"verdict": "approve", "ceremony": {"id": ceremony["id"], "credential": credential}}
    answer = world.decide("lead", release.id, body, status=400)
    assert message in answer.json["error"]
    assert world.stored(release.id).decisions == ()


def test_the_credential_may_come_as_an_object(world: World, release: ApprovalRequest) -> None:
    body = world.sign("lead", release.id, "approve")
    body["ceremony"]["credential"] = json.loads(body["ceremony"]["credential"])
    assert world.decide("lead", release.id, body).json["state"] == "verifying"
    assert [d.person for d in world.stored(release.id).decisions] == ["lead"]


@pytest.mark.parametrize(
    ("reason", "message"), [(7, '"reason" must be text, got a number'), ("x" * 501, "at most 500")]
)
def test_a_bad_reason_is_refused_and_nothing_changes(
    world: World, release: ApprovalRequest, reason: Any, message: str
) -> None:
    body = {**world.sign("dave", release.id, "reject"), "reason": reason}
    answer = world.decide("dave", release.id, body, status=400)
    assert message in answer.json["error"]
    assert world.stored(release.id).state is RequestState.VERIFYING
    assert world.host.purged == []


@pytest.mark.parametrize("request_id", ["nope", "x" * 300, "%00", "..", "%C3%A9", "a%20b"])
def test_an_unknown_request_is_not_found(world: World, request_id: str) -> None:
    lead = world.person("lead").client
    page = lead.get(f"/tpp/requests/{request_id}", expect_errors=True)
    assert page.status_int == 404, page.text
    assert page.html.find("p", class_="error").text.startswith("there is no request")
    for endpoint in ("begin", "decide"):
        answer = post_json(lead, f"/tpp/requests/{request_id}/{endpoint}", {"verdict": "approve"}, status="*")
        assert 400 <= answer.status_int < 500
        assert "error" in answer.json
    answer = post_json(lead, f"/tpp/requests/{request_id}/begin", {"verdict": "approve"}, status=404)
    assert answer.json["error"].startswith("there is no request")
    cancel = lead.post(f"/tpp/requests/{request_id}/cancel", {"csrf_token": token_of(lead)}, expect_errors=True)
    assert cancel.status_int == 404


# --- sessions, tokens and CSRF (I3) ---------------------------------------------------------------------


def _endpoints(request_id: str) -> list[tuple[str, Any]]:
    return [
        (f"/tpp/requests/{request_id}/begin", {"verdict": "approve"}),
        (f"/tpp/requests/{request_id}/decide", {"verdict": "reject", "ceremony": {"id": "x", "credential": "{}"}}),
        (f"/tpp/requests/{request_id}/cancel", {}),
    ]


@pytest.mark.parametrize("credentials", ["token", "none"])
def test_an_api_token_reaches_no_approval_endpoint(
    world: World, release: ApprovalRequest, app: TestApp, credentials: str
) -> None:
    # "ci" uploaded the release: with a browser session it could withdraw it. A token must not.
    environ = {"HTTP_AUTHORIZATION": TOKEN["Authorization"]} if credentials == "token" else {}
    client = browser(app, **environ)
    for page in ("/tpp/requests", f"/tpp/requests/{release.id}"):
        answer = client.get(page, expect_errors=True)
        assert answer.status_int == 403, page
        assert SESSION_REQUIRED in answer.html.find("p", class_="error").text
        assert answer.headers["Content-Security-Policy"] == CSP
        answer = client.get(page, headers={"Accept": "application/json"}, expect_errors=True)
        assert answer.status_int == 403
        assert SESSION_REQUIRED in answer.json["error"]

    for url, body in _endpoints(release.id):
        fresh = browser(app, **environ)  # no cookie, so no CSRF token to match: refused first
        answer = fresh.post_json(url, body, headers={"Accept": "application/json"}, expect_errors=True)
        assert 400 <= answer.status_int < 500, url

    csrf = token_of(client)  # the anonymous session's token, from the error page
    for url, body in _endpoints(release.id):
        answer = client.post_json(
            url, body, headers={"Accept": "application/json", "X-CSRF-Token": csrf}, expect_errors=True
        )
        assert answer.status_int == 403, url
        assert SESSION_REQUIRED in answer.json["error"]
        form = client.post(url, {"csrf_token": csrf}, expect_errors=True)
        assert form.status_int == 403, url

    stored = world.stored(release.id)
    assert stored.state is RequestState.VERIFYING
    assert stored.decisions == ()
    assert world.host.purged == []


def test_posts_need_the_csrf_token(world: World, release: ApprovalRequest) -> None:
    cora = world.person("cora").client  # an owner and an approver: every endpoint would act
    body = world.sign("cora", release.id, "approve")
    for url, other in _endpoints(release.id):
        sent = body if url.endswith("/decide") else other
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            answer = cora.post_json(url, sent, headers={"Accept": "application/json", **headers}, expect_errors=True)
            assert 400 <= answer.status_int < 500, url
        form = cora.post(url, {"csrf_token": "forged"}, expect_errors=True)
        assert 400 <= form.status_int < 500, url
    stored = world.stored(release.id)
    assert stored.state is RequestState.VERIFYING
    assert stored.decisions == ()
    # The untouched ceremony still works once: nothing was used up by the refused posts.
    assert world.decide("cora", release.id, body).json["state"] == "verifying"


# --- the pages themselves -----------------------------------------------------------------------------


def test_the_pages_are_protected_and_fit_a_phone(world: World, release: ApprovalRequest) -> None:
    lead = world.person("lead").client
    for url in ("/tpp/requests", f"/tpp/requests/{release.id}"):
        page = lead.get(url)
        assert page.headers["Content-Security-Policy"] == CSP
        assert page.headers["Cache-Control"] == "no-store"
        assert page.html.find("meta", {"name": "viewport"})["content"] == "width=device-width, initial-scale=1"
        assert_no_inline_code(page)
    page = lead.get(f"/tpp/requests/{release.id}")
    assert [s["src"] for s in page.html.find_all("script")] == ["/tpp/static/tpp.js", "/tpp/static/request.js"]
    assert lead.get("/tpp/static/request.js").status_int == 200
    begun = world.begin("lead", release.id, "approve")
    assert begun.headers["Content-Security-Policy"] == CSP
    assert begun.headers["Cache-Control"] == "no-store"
