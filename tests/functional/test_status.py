"""The status JSON that CI polls with its upload token: the one endpoint tokens reach, and only for
requests the credential's person has a stake in; every answer is JSON and never cached."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import pytest
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, group, wheel
from tests.common.webapp import WebHost
from tests.functional.conftest import login
from tpp_core import ApprovalRequest, PersonId, Policy, Release, ReleaseFile, Scope

#: What curl sends: -u __token__:... and Accept: */*.
CURL = {"Accept": "*/*"}


def token(secret: str) -> dict[str, str]:
    return {**CURL, "Authorization": "Basic " + base64.b64encode(f"__token__:{secret}".encode()).decode()}


CI = token("ci-secret")


def status_url(request_id: str) -> str:
    return f"/tpp/requests/{request_id}/status.json"


def uploaded(registry: Registry) -> ApprovalRequest:
    """CI's upload of acme 1.0 under the brief's policy, its approvers' devices enrolled."""
    registry.enrol("lead", "cora", "dave")
    registry.set_policy(brief_policy())
    request = registry.upload("acme", "1.0", wheel(), wheel("acme-1.0.tar.gz", 2, 2000), uploader="ci")
    assert request is not None
    registry.session.commit()
    return request


def poll(app: TestApp, request_id: str, headers: dict[str, str] = CI, status: int = 200) -> Any:
    answer = app.get(status_url(request_id), headers=headers, status=status)
    assert answer.content_type == "application/json"
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json


def test_ci_polls_its_upload_with_its_token(app: TestApp, registry: Registry) -> None:
    request = uploaded(registry)
    answer = poll(app, request.id)
    assert answer == {
        "id": request.id,
        "kind": "release",
        "state": "verifying",
        "project": "acme",
        "version": "1.0",
        "index": None,  # the test host has one index
        "opened_at": request.opened_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "files": [
            {"filename": "acme-1.0-py3-none-any.whl", "sha256": "0" * 63 + "1", "size": 1000},
            {"filename": "acme-1.0.tar.gz", "sha256": "0" * 63 + "2", "size": 2000},
        ],
        "missing": [
            "lead needs 1 more; eligible: lead",
            "core-team needs 1 more; eligible: bob, cora",
            "company needs 1 more; eligible: cora, dave",
        ],
        "approvals": 0,
        "url": f"http://localhost:6543/tpp/requests/{request.id}",
    }
    assert datetime.fromisoformat(answer["expires_at"]) > datetime.fromisoformat(answer["opened_at"])


def test_the_status_follows_the_approvals(app: TestApp, registry: Registry) -> None:
    request = uploaded(registry)
    registry.approve(request.id, "lead")
    registry.session.commit()
    answer = poll(app, request.id)
    assert (answer["state"], answer["approvals"]) == ("verifying", 1)
    assert answer["missing"] == [
        "core-team needs 1 more; eligible: bob, cora",
        "company needs 1 more; eligible: cora, dave",
    ]
    registry.approve(request.id, "cora")
    registry.approve(request.id, "dave")
    registry.session.commit()
    answer = poll(app, request.id)
    assert (answer["state"], answer["approvals"], answer["missing"]) == ("approved", 3, [])


def test_a_rejection_shows(app: TestApp, registry: Registry) -> None:
    request = uploaded(registry)
    registry.reject(request.id, "cora", "not ours")
    registry.session.commit()
    assert poll(app, request.id)["state"] == "rejected"


@pytest.mark.parametrize("person", ["lead", "bob", "olive"], ids=["approver", "eligible-non-owner", "owner"])
def test_approvers_and_owners_may_read_it_with_a_token_or_a_session(
    app: TestApp, registry: Registry, host: WebHost, person: str
) -> None:
    host.owners_of["acme"].add("olive")  # an owner who approves nothing
    host.tokens[f"{person}-secret"] = person
    request = uploaded(registry)
    assert poll(app, request.id, token(f"{person}-secret"))["id"] == request.id
    login(app, person)
    assert poll(app, request.id, CURL)["id"] == request.id


@pytest.mark.parametrize(
    "headers",
    [
        token("mallory-secret"),
        token("wrong-secret"),
        CURL,
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer ci-secret"},
    ],
    ids=["unrelated-person", "unknown-token", "no-credential", "garbled", "other-scheme"],
)
def test_anyone_else_gets_a_403(app: TestApp, registry: Registry, host: WebHost, headers: dict[str, str]) -> None:
    host.tokens["mallory-secret"] = "mallory"
    request = uploaded(registry)
    answer = poll(app, request.id, headers, status=403)
    assert set(answer) == {"error"}


def test_a_signed_in_stranger_gets_a_403(app: TestApp, registry: Registry) -> None:
    request = uploaded(registry)
    login(app, "mallory")
    assert "mallory is neither the uploader" in poll(app, request.id, CURL, status=403)["error"]


@pytest.mark.parametrize("request_id", ["0123456789abcdef0123", "x" * 300, "a%20b", "%C3%A9"])
def test_an_unknown_request_is_a_404_in_json(app: TestApp, registry: Registry, request_id: str) -> None:
    uploaded(registry)
    assert "there is no request" in poll(app, request_id, status=404)["error"]
    assert "there is no request" in poll(app, request_id, {**CI, "Accept": "application/json"}, status=404)["error"]


def test_without_a_credential_even_an_unknown_request_is_a_403(app: TestApp) -> None:
    """Nobody learns which ids exist without a credential."""
    poll(app, "0123456789abcdef0123", CURL, status=403)


def test_a_policy_change_has_a_status_too(app: TestApp, registry: Registry) -> None:
    registry.set_policy(brief_policy())
    change = registry.set_policy(brief_policy(version=2))
    assert change is not None
    registry.session.commit()
    login(app, "cora")  # an approver of the change, and an owner
    answer = poll(app, change, CURL)
    assert (answer["kind"], answer["scope"], answer["version"], answer["project"], answer["files"]) == (
        "policy-change",
        "acme",
        "2",
        None,
        [],
    )
    assert answer["state"] == "verifying"
    assert len(answer["missing"]) == 3
    login(app, "mallory")
    poll(app, change, CURL, status=403)


def test_the_status_is_read_only(app: TestApp, registry: Registry) -> None:
    request = uploaded(registry)
    app.post(status_url(request.id), headers=CI, status=404)


def release_url(project: str, version: str) -> str:
    return f"/tpp/releases/{project}/{version}/status.json"


@pytest.mark.parametrize("project", ["acme", "ACME"], ids=["canonical", "any-spelling"])
def test_the_release_address_leads_to_its_newest_request(app: TestApp, registry: Registry, project: str) -> None:
    """Every host has it (devpi's upload answer names it): the release's newest request, for the same
    people as the request's own status."""
    request = uploaded(registry)
    answer = app.get(release_url(project, "1.0"), headers=CI, status=303)
    assert answer.location == f"http://localhost:6543{status_url(request.id)}"
    assert answer.headers["Cache-Control"] == "no-store"
    assert poll(app, request.id)["state"] == "verifying"


@pytest.mark.parametrize(("person", "version"), [("mallory", "1.0"), ("ci", "2.0")], ids=["stranger", "no-request"])
def test_the_release_address_tells_nothing_to_others(
    app: TestApp, registry: Registry, host: WebHost, person: str, version: str
) -> None:
    host.tokens["mallory-secret"] = "mallory"
    uploaded(registry)
    answer = app.get(release_url("acme", version), headers=token(f"{person}-secret"), status=404)
    assert answer.content_type == "application/json"
    assert answer.json["error"].startswith(f"no request of acme {version} that you uploaded")
    assert app.get(release_url("acme", "1.0"), headers=CURL, status=403).content_type == "application/json"


def held(host: WebHost, project: str, version: str, *files: ReleaseFile, uploader: str = "ci") -> None:
    """The host stored an upload whose request has not opened yet (its hook or job has not run)."""
    host.uploads.setdefault((project, version), []).extend((f, PersonId(uploader)) for f in files)


def files_of(request: ApprovalRequest) -> tuple[ReleaseFile, ...]:
    assert isinstance(request.subject, Release)
    return request.subject.files


def test_before_its_request_opens_the_uploader_hears_it_is_opening(app: TestApp, host: WebHost) -> None:
    held(host, "acme", "1.0", wheel())
    answer = app.get(release_url("acme", "1.0"), headers=CI, status=200)
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json == {
        "kind": "release",
        "state": "opening",
        "project": "acme",
        "version": "1.0",
        "files": [{"filename": "acme-1.0-py3-none-any.whl", "sha256": "0" * 63 + "1", "size": 1000}],
        "message": "the request for acme 1.0 is opening; ask again in a moment",
        "policy_url": "http://localhost:6543/tpp/policies/project/acme",
    }


def test_a_project_without_policy_or_owner_says_so_and_where_to_set_one(app: TestApp, host: WebHost) -> None:
    held(host, "orphan", "1.0", wheel("orphan-1.0.tar.gz"))
    answer = app.get(release_url("orphan", "1.0"), headers=CI, status=200).json
    assert answer["state"] == "no-policy"
    assert answer["policy_url"] == "http://localhost:6543/tpp/policies/project/orphan"
    assert answer["message"].startswith("no policy governs orphan and it has no owner to give the default policy")
    assert answer["policy_url"] in answer["message"]


def test_a_prefix_policy_makes_it_opening(app: TestApp, host: WebHost, registry: Registry) -> None:
    registry.enrol("root")
    registry.set_policy(Policy(scope=Scope.prefix("orph"), version=1, groups=(group("g", "root"),)), by="root")
    registry.session.commit()
    held(host, "orphan", "1.0", wheel("orphan-1.0.tar.gz"))
    assert app.get(release_url("orphan", "1.0"), headers=CI, status=200).json["state"] == "opening"


def test_the_owners_hear_it_too_and_nobody_else(app: TestApp, host: WebHost) -> None:
    held(host, "acme", "1.0", wheel())
    host.tokens["mallory-secret"] = "mallory"
    login(app, "lead")
    assert app.get(release_url("acme", "1.0"), headers=CURL, status=200).json["state"] == "opening"
    answer = app.get(release_url("acme", "1.0"), headers=token("mallory-secret"), status=404)
    assert answer.json["error"].startswith("no request of acme 1.0 that you uploaded")


def test_once_the_request_covers_the_files_the_address_leads_to_it(
    app: TestApp, registry: Registry, host: WebHost
) -> None:
    request = uploaded(registry)
    held(host, "acme", "1.0", *files_of(request))
    answer = app.get(release_url("acme", "1.0"), headers=CI, status=303)
    assert answer.location == f"http://localhost:6543{status_url(request.id)}"
    held(host, "acme", "1.0", wheel("acme-1.0-py2-none-any.whl", 3))  # a late file, not added yet
    assert app.get(release_url("acme", "1.0"), headers=CI, status=200).json["files"][0]["sha256"] == "0" * 63 + "3"


def test_a_rejected_release_does_not_look_opening(app: TestApp, registry: Registry, host: WebHost) -> None:
    request = uploaded(registry)
    held(host, "acme", "1.0", *files_of(request))
    registry.reject(request.id, "lead")
    registry.session.commit()
    answer = app.get(release_url("acme", "1.0"), headers=CI, status=303)
    assert answer.location == f"http://localhost:6543{status_url(request.id)}"
    assert poll(app, request.id)["state"] == "rejected"


def test_the_redirect_is_json_too(app: TestApp, registry: Registry) -> None:
    request = uploaded(registry)
    answer = app.get(release_url("acme", "1.0"), headers=CI, status=303)
    assert answer.content_type == "application/json"
    assert answer.json == {"id": request.id, "status": f"http://localhost:6543{status_url(request.id)}"}
