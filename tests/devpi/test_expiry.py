"""A request nobody decides expires, and its files are deleted (I7); the server's own tick does it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.common.devpi import Browser, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, RequestState, Scope

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def server_options() -> tuple[str, ...]:
    return ("--tpp-request-lifetime", "2s", "--tpp-tick-interval", "0.5")


def test_an_expired_release_is_deleted(server: DevpiServer, people: dict[str, Browser], dist: Path) -> None:
    server.set_policy(Policy(scope=Scope.project("slow"), version=1, groups=(group("g", "alice", "bob"),)), by="alice")
    path = wheel(dist, "slow", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0
    request = server.request_for("slow", "1.0")

    deadline = time.monotonic() + 20
    while server.stored("alice", "rel", path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not server.stored("alice", "rel", path)
    (expired,) = server.requests_of("slow")
    assert (expired.id, expired.state) == (request.id, RequestState.EXPIRED)
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 410
    assert ("alice", "expired") in server.notified(request.id)
