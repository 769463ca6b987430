"""devpi-export and devpi-import keep the gate: the approval records travel in devpi's own data, a
``tpp`` index is re-created from its bare defaults first (which the index type must accept), and an
unapproved file is not exported at all (it has no bytes as far as devpi's export can tell, see
``tpp_devpi.availability``), so nothing of it reaches the imported server (I1)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from tests.common.devpi import Browser, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, Scope
from tpp_devpi.serve import executable

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def fresh_server() -> bool:
    """This module stops or kills its server: it must not be the shared one."""
    return True


def test_an_imported_server_shows_the_approved_files_only(
    server: DevpiServer, people: dict[str, Browser], dist: Path, tmp_path: Path
) -> None:
    server.set_policy(Policy(scope=Scope.project("moved"), version=1, groups=(group("g", "alice"),)), by="alice")
    approved, pending = wheel(dist, "moved", "1.0"), wheel(dist, "moved", "2.0")
    assert server.twine_upload("alice", "rel", approved).returncode == 0
    assert people["alice"].decide(server.request_for("moved", "1.0").id, "approve").json()["state"] == "approved"
    assert server.twine_upload("alice", "rel", pending).returncode == 0
    server.request_for("moved", "2.0")
    server.stop()

    export = tmp_path / "export"
    for command in (
        ["devpi-export", "--serverdir", str(server.serverdir), str(export)],
        ["devpi-import", "--serverdir", str(tmp_path / "server"), "--no-root-pypi", str(export)],
    ):
        done = subprocess.run([executable(command[0]), *command[1:]], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    imported = DevpiServer(tmp_path).start()
    try:
        index = imported.api("GET", "/alice/rel").json()["result"]
        assert (index["type"], index["volatile"]) == ("tpp", False)
        assert requests.get(imported.file_url("alice", "rel", approved), timeout=10).status_code == 200
        # a held file has no last_modified time, so devpi-export leaves it out, as a mirror's unfetched file
        assert requests.get(imported.file_url("alice", "rel", pending), timeout=10).status_code == 404
        assert not imported.stored("alice", "rel", pending)
        page = requests.get(f"{imported.url}/alice/rel/+simple/moved/", timeout=10).text
        assert approved.name in page
        assert pending.name not in page
    finally:
        imported.stop()
