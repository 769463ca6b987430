"""Journey J1 on a real devpi-server: a twine upload to a ``tpp`` index stays invisible and
undownloadable to pip until its approvers approve over HTTP with WebAuthn; then pip installs it.
A rejection deletes the files; a three-group policy needs three distinct people (I1, I3, I4, I7)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, assert_hidden, wheel
from tests.common.scenario import group
from tpp_core import Policy, RequestState, Scope

pytestmark = pytest.mark.service


def policy(project: str, *groups: object) -> Policy:
    return Policy(scope=Scope.project(project), version=1, groups=groups)  # type: ignore[arg-type]


def test_an_upload_stays_hidden_until_approved(server: DevpiServer, people: dict[str, Browser], dist: Path) -> None:
    server.set_policy(policy("hello", group("maintainers", "alice", "bob", seats=2)), by="alice")
    path = wheel(dist, "hello", "1.0")

    upload = server.twine_upload("alice", "rel", path)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    request = server.request_for("hello", "1.0")
    assert request.state is RequestState.VERIFYING
    assert [f.filename for f in request.subject.files] == [path.name]  # type: ignore[union-attr]
    assert server.notified(request.id) == {("alice", "approval-needed"), ("bob", "approval-needed")}
    assert_hidden(server, path, "hello", "1.0", dist)
    assert server.stored("alice", "rel", path)  # quarantined, not lost
    assert "hello" not in server.api("GET", "/alice/rel").json()["result"]["projects"]
    # devpi push of a verifying version is refused
    push = server.api(
        "POST", "/alice/rel", {"name": "hello", "version": "1.0", "targetindex": "alice/rel"}, auth=("alice", PASSWORD)
    )
    assert push.status_code == 403, push.text

    # The upload's answer says where to poll; the uploader's credentials read the status there, and
    # nothing else of TPP's (I3).
    poll = f"{server.url}/+tpp/releases/hello/1.0/status.json"
    assert (
        f"verifying: hello 1.0 is stored but nobody can install it until its approvers approve it; status: {poll}"
        in (upload.stdout + upload.stderr)
    )
    status = requests.get(poll, auth=("alice", PASSWORD), timeout=10)
    assert status.url == f"{server.url}/+tpp/requests/{request.id}/status.json"
    assert requests.get(poll, auth=("dave", PASSWORD), timeout=10).status_code == 404  # not his business
    assert requests.get(poll, timeout=10).status_code == 403
    assert status.status_code == 200
    assert status.json()["state"] == "verifying"
    page = requests.get(
        f"{server.url}/+tpp/requests/{request.id}", auth=("alice", PASSWORD), timeout=10, allow_redirects=False
    )
    assert page.status_code == 303
    assert "/+tpp/login" in page.headers["Location"]
    begin = requests.post(
        f"{server.url}/+tpp/requests/{request.id}/begin",
        json={"verdict": "approve"},
        auth=("alice", PASSWORD),
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert begin.status_code in (400, 403), begin.text

    answer = people["alice"].decide(request.id, "approve")
    assert answer.json()["state"] == "verifying", answer.text
    assert_hidden(server, path, "hello", "1.0", dist)  # one of two seats is not enough
    answer = people["bob"].decide(request.id, "approve")
    assert answer.json()["state"] == "approved", answer.text

    # visible at once
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 200
    authcheck = {"X-Original-URI": server.file_url("alice", "rel", path).removeprefix(server.url)}
    assert requests.get(f"{server.url}/+authcheck", headers=authcheck, timeout=10).status_code == 200
    assert ">hello<" in requests.get(f"{server.url}/alice/rel/+simple/", timeout=10).text
    pep691 = {"Accept": "application/vnd.pypi.simple.v1+json"}
    assert '"hello"' in requests.get(f"{server.url}/alice/rel/+simple/", headers=pep691, timeout=10).text
    install = server.pip("install", "--target", str(dist / "site"), "hello==1.0", index="alice/rel")
    assert install.returncode == 0, install.stdout + install.stderr
    assert (dist / "site" / "hello.py").read_text() == "VERSION = '1.0'\n"
    assert "hello" in server.api("GET", "/alice/rel").json()["result"]["projects"]


def test_a_rejected_release_never_appears_and_its_files_are_gone(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    server.set_policy(policy("reject-me", group("maintainers", "alice", "bob")), by="alice")
    path = wheel(dist, "reject-me", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0
    request = server.request_for("reject-me", "1.0")

    answer = people["bob"].decide(request.id, "reject", reason="not ours")
    assert answer.json()["state"] == "rejected", answer.text

    assert not server.stored("alice", "rel", path)
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 410  # devpi's "deleted"
    download = server.pip("download", "-d", str(dist / "dl"), "reject-me==1.0", index="alice/rel")
    assert download.returncode != 0
    assert "reject-me" not in server.api("GET", "/alice/rel").json()["result"]["projects"]
    assert ("alice", "rejected") in server.notified(request.id)


def test_three_groups_need_three_distinct_people(server: DevpiServer, people: dict[str, Browser], dist: Path) -> None:
    # The brief's policy: the lead; a core-team member other than the lead; a company teammate other
    # than the lead. cora is in both teams but fills one seat.
    server.set_policy(
        policy(
            "trio",
            group("lead", "alice"),
            group("core-team", "alice", "cora", "bob", excluded=("alice",)),
            group("company", "alice", "cora", "dave", excluded=("alice",)),
        ),
        by="alice",
    )
    path = wheel(dist, "trio", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0
    request = server.request_for("trio", "1.0")

    for name in ("alice", "cora"):
        assert people[name].decide(request.id, "approve").json()["state"] == "verifying"
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 403
    assert people["dave"].decide(request.id, "approve").json()["state"] == "approved"
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 200
    assert server.pip("download", "-d", str(dist / "dl"), "trio==1.0", index="alice/rel").returncode == 0
