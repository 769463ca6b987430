"""A real primary and a real replica devpi-server, both with the plugin, on loopback (I1 on replicas).

Held files never reach the replica (their entries name no ``last_modified``, so devpi's replication
does not fetch them), and nothing there waits for them: its notifier keeps up, its ``/+status``
answers 200, its log stays quiet. An approval makes the replica fetch the bytes at once; a rejection
removes the release there too; uploads through the replica work; TPP's pages redirect to the
primary. The replica skips eager replication of ``alice/late`` (``--file-replication-skip-indexes``),
so that one test can ask for a ``.metadata`` before the bytes arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.common.devpi import Browser, DevpiServer, assert_hidden, wheel
from tests.common.scenario import group
from tests.devpi.conftest import running
from tpp_core import ApprovalRequest, Policy, RequestState, Scope

pytestmark = pytest.mark.service

_LATE = "late"  # the index the replica fetches only on demand


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    """The primary."""
    yield from running(tmp_path_factory.mktemp("primary"), ("--role", "primary"))


@pytest.fixture(scope="module")
def replica(
    server: DevpiServer, people: dict[str, Browser], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevpiServer]:
    """The replica, started once the primary has its people and indexes."""
    answer = server.create_index("alice", _LATE)
    assert answer.status_code == 200, answer.text
    options = ("--file-replication-skip-indexes", f"alice/{_LATE}")
    yield from running(tmp_path_factory.mktemp("replica"), options, primary=server)


@pytest.fixture
def synced(server: DevpiServer, replica: DevpiServer) -> Callable[[], None]:
    """Wait until the replica imported everything the primary committed so far."""
    return lambda: replica.wait_for_serial(server.serial())


def _until(check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)
    return result


def _status(replica: DevpiServer) -> dict[str, Any]:
    answer = requests.get(f"{replica.url}/+status", headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["result"]
    return result


def _caught_up(replica: DevpiServer) -> None:
    """The replica's notifier ran every event it imported (it waits for no file), with no replication error."""
    _until(lambda: (s := _status(replica))["event-serial"] == s["serial"], "the replica's notifier caught up")
    assert _status(replica)["replication-errors"] == {}


def _held(server: DevpiServer, dist: Path, project: str) -> tuple[ApprovalRequest, Path]:
    """A wheel of ``project`` 1.0 uploaded to alice/rel, and its request (only alice approves)."""
    server.set_policy(Policy(scope=Scope.project(project), version=1, groups=(group("g", "alice"),)), by="alice")
    path = wheel(dist, project, "1.0")
    upload = server.twine_upload("alice", "rel", path)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    return server.request_for(project, "1.0"), path


def _installs(replica: DevpiServer, project: str, dist: Path, index: str = "alice/rel") -> bool:
    return replica.pip("download", "-d", str(dist / "dl"), f"{project}==1.0", index=index).returncode == 0


def test_an_upload_through_the_replica_opens_its_request(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    server.set_policy(Policy(scope=Scope.project("relayed"), version=1, groups=(group("g", "alice"),)), by="alice")
    path = wheel(dist, "relayed", "1.0")

    upload = replica.twine_upload("alice", "rel", path)

    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert f"verifying: relayed 1.0 is stored; status: {server.url}/+tpp/releases/relayed/1.0/status.json" in (
        upload.stdout.replace(" but nobody can install it until its approvers approve it", "")
    )
    assert server.request_for("relayed", "1.0").state is RequestState.VERIFYING
    assert server.stored("alice", "rel", path)
    _caught_up(replica)


def test_held_files_never_reach_the_replica(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path, synced: Callable[[], None]
) -> None:
    _, path = _held(server, dist, "secret")
    synced()

    assert_hidden(replica, path, "secret", "1.0", dist)
    file_url = replica.file_url("alice", "rel", path)
    assert requests.get(file_url, headers={"Accept": "application/json"}, timeout=10).status_code == 403
    assert not replica.stored("alice", "rel", path)
    _caught_up(replica)
    noisy = [line for line in replica.log.read_text().splitlines() if path.name in line and " INFO " not in line]
    assert noisy == []  # devpi logs the missing file at DEBUG only: nothing retries, nothing waits


def test_a_held_release_stalls_nothing(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path, synced: Callable[[], None]
) -> None:
    _held(server, dist, "waiting")

    server.publish(people["alice"], wheel(dist, "after", "1.0"), "after", "1.0")

    _until(lambda: _installs(replica, "after", dist), "a later approved release installs through the replica")
    _caught_up(replica)


def test_an_approval_reaches_the_replica_with_its_bytes(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path, synced: Callable[[], None]
) -> None:
    request, path = _held(server, dist, "approved-later")
    synced()
    assert not replica.stored("alice", "rel", path)

    assert people["alice"].decide(request.id, "approve").json()["state"] == "approved"

    _until(lambda: replica.stored("alice", "rel", path), "the replica fetched the approved bytes by itself")
    assert _installs(replica, "approved-later", dist)
    _caught_up(replica)


def test_a_metadata_asked_before_the_bytes_arrive_is_the_metadata(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path, synced: Callable[[], None]
) -> None:
    path = wheel(dist, "early-bird", "1.0", metadata="Summary: early\n")
    server.publish(people["alice"], path, "early-bird", "1.0", index=_LATE)
    synced()
    assert not replica.stored("alice", _LATE, path)  # the replica fetches this index's files on demand only

    answer = requests.get(replica.file_url("alice", _LATE, path) + ".metadata", timeout=10)

    assert answer.status_code == 200
    assert answer.content.startswith(b"Metadata-Version: 2.1\nName: early-bird\nVersion: 1.0\nSummary: early")
    assert _installs(replica, "early-bird", dist, index=f"alice/{_LATE}")
    _caught_up(replica)


def test_a_rejection_removes_the_release_on_the_replica(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path, synced: Callable[[], None]
) -> None:
    request, path = _held(server, dist, "refused")

    assert people["alice"].decide(request.id, "reject", "not ours").json()["state"] == "rejected"

    _until(lambda: not server.stored("alice", "rel", path), "the primary deleted the rejected file")
    synced()
    assert replica.api("GET", "/alice/rel/refused").status_code == 404
    assert requests.get(f"{replica.url}/alice/rel/+simple/refused/", timeout=10).status_code == 404
    assert requests.get(replica.file_url("alice", "rel", path), timeout=10).status_code == 410  # devpi: deleted
    assert not _installs(replica, "refused", dist)
    assert not replica.stored("alice", "rel", path)
    _caught_up(replica)


def test_a_replica_killed_while_a_release_is_held_exposes_nothing(
    server: DevpiServer, replica: DevpiServer, people: dict[str, Browser], dist: Path, synced: Callable[[], None]
) -> None:
    _, path = _held(server, dist, "through-a-crash")
    synced()

    replica.kill()
    replica.start()
    synced()

    assert_hidden(replica, path, "through-a-crash", "1.0", dist)
    assert not replica.stored("alice", "rel", path)
    _caught_up(replica)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/+tpp/login", 302),
        ("GET", "/+tpp/releases/acme/1.0/status.json?x=1", 302),
        ("POST", "/+tpp/requests/1/decide", 307),
    ],
)
def test_tpp_pages_on_the_replica_redirect_to_the_primary(
    server: DevpiServer, replica: DevpiServer, method: str, path: str, status: int
) -> None:
    answer = requests.request(method, replica.url + path, allow_redirects=False, timeout=10)

    assert (answer.status_code, answer.headers["Location"]) == (status, server.url + path)
