"""Approval to installable through a devpi replica (bar: median under 2 s, the brief's goal).

Run with ``python bench/devpi_replica.py`` (``--releases N``). It starts a primary
(``--role primary``) and a replica, both with the plugin, on loopback; uploads N releases, one at a
time, each held until its one approver approves it over the HTTP endpoints (a WebAuthn assertion
from a software authenticator); and measures, from the moment the approval's answer arrives:

* ``bytes``: until the wheel is on the replica's disk, with no client asking (devpi's replication
  fetches it as soon as the approval's keyfs change arrives);
* ``installable``: until the replica lists the wheel on its simple page and serves its bytes and
  its ``.metadata``; a ``pip download`` through the replica then confirms it (not timed).

:func:`replica_latencies` does the measuring, for another benchmark to call with servers of its own.
It prints the medians and PASS/FAIL, and exits non-zero if the median misses the bar.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tpp_core import Policy, Scope

# The live-server helpers of the end-to-end tests; the repository root is not on the path when
# the script runs as ``python bench/devpi_replica.py``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.common.devpi import Browser, DevpiServer, wheel
from tests.common.scenario import group

BAR = 2.0  # seconds


def _until(check: Callable[[], bool], timeout: float = 60) -> float:
    """Seconds until ``check()`` is true, polled every 5 ms."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"not within {timeout} s")
        time.sleep(0.005)
    return time.monotonic() - start


def _installable(replica: DevpiServer, index: str, path: Path, project: str) -> bool:
    page = requests.get(f"{replica.url}/{index}/+simple/{project}/", timeout=10)
    if page.status_code != 200 or path.name not in page.text:
        return False
    user, name = index.split("/")
    url = replica.file_url(user, name, path)
    return requests.get(url, timeout=10).content == path.read_bytes() and requests.get(
        url + ".metadata", timeout=10
    ).content.startswith(b"Metadata-Version:")


def replica_latencies(
    primary: DevpiServer, replica: DevpiServer, approver: Browser, dist: Path, releases: int, index: str = "rel"
) -> dict[str, list[float]]:
    """Seconds from each approval to its bytes on the replica's disk and to installable through it.

    ``approver`` owns the ``tpp`` index ``index`` on ``primary`` and has an enrolled device;
    projects ``replica-bench-…`` get a policy naming the approver alone.
    """
    owner = approver.person
    primary.set_policy(Policy(scope=Scope.prefix("replica-bench-"), version=1, groups=(group("g", owner),)), by=owner)
    found: dict[str, list[float]] = {"bytes": [], "installable": []}
    for n in range(releases):
        to_bytes, to_installable = _one_release(primary, replica, approver, dist / str(n), index)
        found["bytes"].append(to_bytes)
        found["installable"].append(to_installable)
    return found


def _one_release(
    primary: DevpiServer, replica: DevpiServer, approver: Browser, dist: Path, index: str
) -> tuple[float, float]:
    owner, project = approver.person, f"replica-bench-{time.monotonic_ns()}"
    dist.mkdir()
    path = wheel(dist, project, "1.0")
    upload = primary.twine_upload(owner, index, path)
    if upload.returncode:
        raise SystemExit(f"upload failed:\n{upload.stdout}{upload.stderr}")
    request = primary.request_for(project, "1.0", timeout=60)
    replica.wait_for_serial(primary.serial(), timeout=60)
    answer = approver.decide(request.id, "approve")
    approved = time.monotonic()
    if answer.json().get("state") != "approved":
        raise SystemExit(f"approval failed: {answer.text}")
    _until(lambda: replica.stored(owner, index, path))
    to_bytes = time.monotonic() - approved
    _until(lambda: _installable(replica, f"{owner}/{index}", path, project))
    to_installable = time.monotonic() - approved
    download = replica.pip("download", "-d", str(dist / "dl"), f"{project}==1.0", index=f"{owner}/{index}")
    if download.returncode:
        raise SystemExit(f"pip could not install {project} through the replica:\n{download.stdout}")
    return to_bytes, to_installable


def measure(releases: int) -> dict[str, list[float]]:
    """:func:`replica_latencies` on a primary and a replica of its own, started and stopped here."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        primary = DevpiServer(root / "primary", "--role", "primary").start()
        replica = None
        try:
            primary.create_user("alice")
            alice = Browser(primary.url, "alice").sign_in()
            alice.enrol()
            if primary.create_index("alice", "rel").status_code != 200:
                raise SystemExit("cannot create alice/rel")
            replica = DevpiServer(root / "replica", primary=primary).start()
            (root / "dist").mkdir()
            return replica_latencies(primary, replica, alice, root / "dist", releases)
        finally:
            if replica is not None:
                replica.stop()
            primary.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=7, help="releases approved, one at a time (default: 7)")
    args = parser.parse_args()
    found = measure(args.releases)
    labels = {"bytes": "the bytes on the replica's disk", "installable": "installable through the replica"}
    for what, seconds in found.items():
        print(
            f"approval -> {labels[what]}: median {statistics.median(seconds):.3f} s "
            f"(min {min(seconds):.3f}, max {max(seconds):.3f}, {len(seconds)} releases)"
        )
    median = statistics.median(found["installable"])
    verdict = "PASS" if median < BAR else "FAIL"
    print(f"{verdict}: median approval -> installable {median:.3f} s (bar: < {BAR} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
