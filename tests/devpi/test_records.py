"""Where approval records live: in each version's own keyfs value, where no upload can write them,
and moved there at start-up from the old format (the owner's user record) (I1, I3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tests.common.devpi_keyfs import StoppedKeyfs
from tests.common.scenario import group
from tpp_core import Policy, Scope

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def fresh_server() -> bool:
    """This module stops its server to write keyfs directly: it must not be the shared one."""
    return True


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listed(server: DevpiServer, project: str) -> str:
    return requests.get(f"{server.url}/alice/rel/+simple/{project}/", timeout=30).text


def test_an_upload_naming_the_record_key_approves_nothing(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    server.set_policy(Policy(scope=Scope.project("forged"), version=1, groups=(group("g", "alice"),)), by="alice")
    path = wheel(dist, "forged", "1.0")
    forged = json.dumps({"index": "alice/rel", "files": {path.name: sha256(path)}})
    fields = {"name": "forged", "version": "1.0", "metadata_version": "2.1", "tpp_approved": forged}
    auth = ("alice", PASSWORD)
    for action in ("submit", "file_upload"):
        files = {"content": (path.name, path.read_bytes())} if action == "file_upload" else None
        answer = requests.post(
            f"{server.url}/alice/rel/", data={":action": action, **fields}, files=files, auth=auth, timeout=30
        )
        assert answer.status_code == 200, answer.text
    server.request_for("forged", "1.0")

    assert path.name not in listed(server, "forged")
    assert requests.get(server.file_url("alice", "rel", path), timeout=30).status_code == 403

    # Nor through a plain index and devpi push (which copies a version's plain keys).
    assert server.create_index("alice", "scratch", type="stage").status_code == 200
    answer = requests.post(
        f"{server.url}/alice/scratch/",
        data={":action": "file_upload", **fields, "version": "2.0"},
        files={"content": (path.name.replace("1.0", "2.0"), path.read_bytes())},
        auth=auth,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    push = server.api(
        "POST", "/alice/scratch", {"name": "forged", "version": "2.0", "targetindex": "alice/rel"}, auth=auth
    )
    assert push.status_code == 200, push.text
    assert "tpp_approved" not in server.api("GET", "/alice/scratch/forged/2.0").json()["result"]
    assert "2.0" not in listed(server, "forged")

    # devpi keeps only its own metadata fields: the record key never reached the versions' data.
    server.stop()
    with StoppedKeyfs(server.serverdir) as keyfs:
        for version in ("1.0", "2.0"):
            data = keyfs.version_data("alice/rel", "forged", version)
            assert data["version"] == version
            assert "tpp_approved" not in data
    server.start()


def test_records_of_the_old_format_move_into_their_versions_at_start_up(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    server.set_policy(Policy(scope=Scope.project("legacy"), version=1, groups=(group("g", "alice"),)), by="alice")
    approved, held = wheel(dist, "legacy", "1.0"), wheel(dist, "legacy", "2.0")
    assert server.twine_upload("alice", "rel", approved, held).returncode == 0
    server.request_for("legacy", "2.0")
    server.stop()

    # As TPP wrote them before: 1.0 approved, 2.0 approved for other bytes, and records of a version
    # and an index that no longer exist.
    with StoppedKeyfs(server.serverdir) as keyfs:
        keyfs.write_old_records(
            "alice",
            {
                "rel": {
                    "legacy": {
                        "1.0": {approved.name: sha256(approved)},
                        "2.0": {held.name: "0" * 64},
                        "0.1": {"legacy-0.1.tar.gz": "1" * 64},
                    }
                },
                "gone": {"legacy": {"1.0": {approved.name: sha256(approved)}}},
            },
        )
    server.start()
    server.wait_for_log("tpp: moved 2 approved files' records of 1 users into their versions")

    assert approved.name in listed(server, "legacy")
    assert requests.get(server.file_url("alice", "rel", approved), timeout=30).status_code == 200
    assert held.name not in listed(server, "legacy")
    assert requests.get(server.file_url("alice", "rel", held), timeout=30).status_code == 403
    install = server.pip("install", "--target", str(dist / "site"), "legacy==1.0", index="alice/rel")
    assert install.returncode == 0, install.stdout + install.stderr

    server.stop()
    with StoppedKeyfs(server.serverdir) as keyfs:
        assert "tpp" not in keyfs.user_record("alice")  # the old records are gone
        assert keyfs.version_data("alice/rel", "legacy", "1.0")["tpp_approved"] == {
            "index": "alice/rel",
            "files": {approved.name: sha256(approved)},
        }
    server.start()
    assert approved.name in listed(server, "legacy")
    assert "moved" not in server.log.read_text().rsplit("Found plugin", 1)[-1]  # nothing left to move


def test_a_file_deleted_before_its_upload_hook_ran_is_skipped_quietly(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    # Two files of one version stored in one transaction, and one of them deleted in the next (as a
    # rejection's purge does) before devpi's notifier ran the upload hooks of the first.
    server.set_policy(Policy(scope=Scope.project("raced"), version=1, groups=(group("g", "alice"),)), by="alice")
    kept, purged = wheel(dist, "raced", "1.0"), wheel(dist, "raced", "1.0", tag="py2.py3-none-any")
    server.stop()
    with StoppedKeyfs(server.serverdir) as keyfs:
        keyfs.store_releases([("alice/rel", "raced", "1.0", [kept, purged])])
        keyfs.delete_file("alice/rel", "raced", "1.0", purged.name)
    logged = len(server.log.read_text())
    server.start()

    request = server.request_for("raced", "1.0")
    assert [f.filename for f in request.subject.files] == [kept.name]  # type: ignore[union-attr]
    server.wait_for_log("tpp: raced 1.0 on alice/rel awaits approval")
    log = server.log.read_text()[logged:]
    assert "Traceback" not in log
    assert "whole number of bytes" not in log
