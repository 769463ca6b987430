"""One file TPP cannot process never stops the others: reconciliation logs it once, leaves it
hidden, and still opens and publishes every other project's requests (I1, I10).

devpi stores what TPP's checks refuse (here a version with an emoji, which no manifest may hold);
it is planted first, in a project that sorts before the others, so a sweep that gave up on it would
never reach them.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, RequestState, Scope

pytestmark = pytest.mark.service

PLANTED = "aaa-planted"
ODD_VERSION = "1.0\N{GRINNING FACE}"


@pytest.fixture(scope="module")
def server_options() -> tuple[str, ...]:
    return ("--tpp-tick-interval", "0.5")  # a sweep every half second


def plant(server: DevpiServer) -> requests.Response:
    """An sdist devpi stores and TPP refuses: its name holds a character no manifest may hold."""
    server.set_policy(Policy(scope=Scope.project(PLANTED), version=1, groups=(group("g", "alice"),)), by="alice")
    fields = {":action": "file_upload", "name": PLANTED, "version": ODD_VERSION, "metadata_version": "2.1"}
    content = {"content": (f"{PLANTED}-{ODD_VERSION}.tar.gz", b"not really a tarball")}
    return requests.post(f"{server.url}/alice/rel/", data=fields, files=content, auth=("alice", PASSWORD), timeout=30)


def test_a_file_tpp_refuses_leaves_the_other_requests_going(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    # An upload whose request TPP's database lost: only a sweep can open it again.
    waiting = wheel(dist, "waiting", "1.0")
    assert server.twine_upload("alice", "rel", waiting).returncode == 0
    lost = server.request_for("waiting", "1.0")
    server.lose_request(lost.id)

    planted = plant(server)
    assert planted.status_code == 200, planted.text  # devpi stored it; the answer is no 500
    assert planted.headers["X-TPP-Status"].isascii()
    server.wait_for_log(f"{PLANTED} {ODD_VERSION} on alice/rel cannot be approved")
    server.wait_for_log(f"tpp: {PLANTED} {ODD_VERSION} on alice/rel cannot be reconciled")

    request = server.request_for("waiting", "1.0")
    assert request.id != lost.id
    assert request.state is RequestState.VERIFYING
    assert people["alice"].decide(request.id, "approve").json()["state"] == "approved"
    install = server.pip("install", "--target", str(dist / "site"), "waiting==1.0", index="alice/rel")
    assert install.returncode == 0, install.stdout + install.stderr

    # Sweeps went on all along; the planted file was logged once, stays hidden, and nothing crashed.
    time.sleep(1.5)
    log = server.log.read_text()
    assert log.count(f"{PLANTED} {ODD_VERSION} on alice/rel cannot be reconciled") == 1
    assert "Traceback" not in log
    page = requests.get(f"{server.url}/alice/rel/+simple/{PLANTED}/", timeout=30)
    assert ODD_VERSION not in page.text
    assert server.requests_of(PLANTED) == []
