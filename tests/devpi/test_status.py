"""The release's status address, which the upload's answer names, on a real devpi-server: from the
moment twine returns it answers JSON, ``opening`` until the upload hook opened the request (it runs
after devpi's commit, in its notifier thread), then a redirect to the request's status."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel

pytestmark = pytest.mark.service


def test_an_upload_before_any_policy_is_opening_then_its_default_policys_request(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    path = wheel(dist, "early-bird", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0  # no policy was set for early-bird
    poll = f"{server.url}/+tpp/releases/early-bird/1.0/status.json"
    states = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answer = requests.get(poll, auth=("alice", PASSWORD), allow_redirects=False, timeout=10)
        assert answer.headers["Content-Type"].startswith("application/json"), answer.text
        if answer.status_code == 303:
            break
        assert answer.status_code == 200, answer.text
        states.append(answer.json()["state"])
        assert answer.json()["files"] == [
            {"filename": path.name, "sha256": answer.json()["files"][0]["sha256"], "size": path.stat().st_size}
        ]
        time.sleep(0.02)
    assert set(states) <= {"opening"}, states
    request = server.request_for("early-bird", "1.0")
    assert answer.headers["Location"] == f"{server.url}/+tpp/requests/{request.id}/status.json"
    opened = requests.get(answer.headers["Location"], auth=("alice", PASSWORD), timeout=10).json()
    assert (opened["state"], opened["project"], opened["index"]) == ("verifying", "early-bird", "alice/rel")
    assert [sorted(g.members) for g in request.policy.groups] == [["alice"]]  # the default policy
    stranger = requests.get(poll, auth=("dave", PASSWORD), allow_redirects=False, timeout=10)
    assert (stranger.status_code, stranger.headers["Content-Type"]) == (404, "application/json")
