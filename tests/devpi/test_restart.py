"""A server killed while a release is verifying (kill -9) loses nothing and shows nothing; start-up
reconciliation opens the request an upload missed (here: TPP's rows of it were lost) (I1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.common.devpi import Browser, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, RequestState, Scope

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def fresh_server() -> bool:
    """This module stops or kills its server: it must not be the shared one."""
    return True


def test_a_restart_while_verifying_loses_nothing(server: DevpiServer, people: dict[str, Browser], dist: Path) -> None:
    server.set_policy(
        Policy(scope=Scope.project("sturdy"), version=1, groups=(group("maintainers", "alice", "bob", seats=2),)),
        by="alice",
    )
    path = wheel(dist, "sturdy", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0
    request = server.request_for("sturdy", "1.0")
    assert people["alice"].decide(request.id, "approve").json()["state"] == "verifying"

    server.kill()
    server.start()

    file_url = server.file_url("alice", "rel", path)
    assert requests.get(file_url, timeout=10).status_code == 403
    assert server.pip("download", "-d", str(dist / "dl"), "sturdy==1.0", index="alice/rel").returncode != 0
    (stored,) = server.requests_of("sturdy")
    assert (stored.id, stored.state, stored.approvers) == (request.id, RequestState.VERIFYING, ("alice",))
    assert server.stored("alice", "rel", path)

    # the session cookie outlives the restart: it is keyed from the server's secret
    assert people["bob"].decide(request.id, "approve").json()["state"] == "approved"
    assert requests.get(file_url, timeout=10).status_code == 200


def test_reconciliation_opens_what_an_upload_missed(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    path = wheel(dist, "lost-request", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0
    lost = server.request_for("lost-request", "1.0")
    server.lose_request(lost.id)
    assert server.requests_of("lost-request") == []
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 403  # still hidden

    server.kill()
    server.start()

    request = server.request_for("lost-request", "1.0")
    assert request.id != lost.id
    assert request.state is RequestState.VERIFYING
    assert people["alice"].decide(request.id, "approve").json()["state"] == "approved"
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 200
