"""What the gate costs on devpi, in one run: keyfs bytes per approval, simple-page throughput, upload
time, and how long an upload takes to reach a device and an approval to reach installers.

Run with ``python bench/devpi_gate.py`` (``--help`` for the sizes). One devpi-server with the plugin
serves a plain index and a ``tpp`` index holding the same releases; a prefix policy governs every
``bench-`` name, so each upload to the ``tpp`` index opens a request and queues a notification to
alice's device, which listens on the loopback push service of the tests. Approvals go through the
HTTP endpoints with a software authenticator. The releases measured against are stored with
devpi's model while the server is stopped, as devpi-import does, and approved one by one through
the endpoints when it runs again; the probes are uploaded with devpi's upload POST (what twine
sends), and the timed uploads with twine.

* **keyfs bytes per approval**: what devpi's changelog gains in the approval's keyfs transaction
  (the rows after the serial read just before the decision), for ``--probes`` one-file releases
  when about 100 files are approved, and again at ``--approved`` (5,000); goal: ratio <= 1.1. The
  files in between come in releases of ``--bulk-files`` files (one approval each).
* **simple pages**, ``/+simple/<project>/`` as HTML and as PEP 691 JSON, ``--clients`` keep-alive
  clients for ``--seconds`` per round: round-robin over the small projects, and the big project
  (``--big-versions`` x ``--big-files``); goal: tpp/plain >= 0.95.
* **twine upload** of 10 new wheels, governed names; goal: tpp/plain <= 1.15.
* **upload -> request open -> push delivered** (median of the probes), and **approval -> installable**
  (from sending the final decision until ``+f/`` answers 200 and the simple page lists the file).
* **approval -> installable through a replica** (median of ``--replica-releases``): a primary and a
  replica of their own, as ``bench/devpi_replica.py`` measures them.
* **peak memory** (VmHWM) of the server process after everything above.

Rounds alternate between the indexes, so drift on the machine hits both alike; ratios are medians of
the per-round ratios. It prints each figure with its goal and always exits 0.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' live-server helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, the replica benchmark
from devpi_replica import measure as measure_replica

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tests.common.devpi_keyfs import StoppedKeyfs
from tests.common.notifications import listen
from tests.common.push_service import LoopbackPushService
from tests.common.scenario import group
from tpp_core import Policy, Scope
from tpp_warehouse.vapid import generate

#: Seconds a probe waits for its request and its push message.
PROBE_TIMEOUT = 180

INDEXES = ("plain", "gated")
PAGES = {"HTML": "text/html", "JSON": "application/vnd.pypi.simple.v1+json"}
AUTH = ("alice", PASSWORD)


class Gate:
    """The server, alice's browser and device, and the files made so far."""

    def __init__(self, server: DevpiServer, alice: Browser, push: LoopbackPushService, dist: Path) -> None:
        self.server, self.alice, self.push, self.dist = server, alice, push, dist
        self.approved = 0  # files approved on the tpp index
        self.http = requests.Session()

    def wheels(self, name: str, version: str, files: int) -> list[Path]:
        """``files`` wheels of one release (the first one installable)."""
        return [wheel(self.dist, name, version, tag=f"py3-none-any{n}" if n else "py3-none-any") for n in range(files)]

    def upload(self, index: str, name: str, version: str, files: int = 1) -> list[Path]:
        """``files`` wheels of one release, POSTed one by one as twine does."""
        paths = self.wheels(name, version, files)
        for path in paths:
            fields = {":action": "file_upload", "name": name, "version": version, "metadata_version": "2.1"}
            with path.open("rb") as content:
                answer = self.http.post(
                    f"{self.server.url}/alice/{index}/",
                    data=fields,
                    files={"content": (path.name, content)},
                    auth=AUTH,
                    timeout=60,
                )
            if answer.status_code != 200:
                raise SystemExit(f"upload of {path.name} to {index}: {answer.status_code} {answer.text[:300]}")
        return paths

    def approve(self, name: str, version: str, files: int = 1) -> float:
        """Approve the release alone; returns the seconds from sending the decision to installable."""
        request = self.server.request_for(name, version, files=files, timeout=300)
        begun = self.alice.post_json(f"/+tpp/requests/{request.id}/begin", {"verdict": "approve"}).json()
        assertion = self.alice.key.get(json.loads(begun["options"]), self.alice.url)
        body = {"verdict": "approve", "ceremony": {"id": begun["id"], "credential": json.dumps(assertion)}}
        started = time.perf_counter()
        answer = self.alice.post_json(f"/+tpp/requests/{request.id}/decide", {**body, "reason": ""})
        if answer.json().get("state") != "approved":
            raise SystemExit(f"approval of {name} {version} failed: {answer.text[:300]}")
        path = self.dist / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        url = self.server.file_url("alice", "gated", path)
        while (
            self.http.get(url, timeout=10).status_code != 200
            or path.name not in self.http.get(f"{self.server.url}/alice/gated/+simple/{name}/", timeout=10).text
        ):
            time.sleep(0.005)
        self.approved += files
        return time.perf_counter() - started

    def publish(self, releases: list[tuple[str, str, int, bool]]) -> None:
        """Store every (name, version, files, on the plain index too) release with devpi's model while
        the server is stopped, as devpi-import does (thousands of upload POSTs would take many
        minutes: each commits and syncs devpi's keyfs), start it (its notifier runs the upload
        hooks, which open the requests), then approve each release through the HTTP endpoints."""
        stored = []
        for name, version, files, plain in releases:
            paths = self.wheels(name, version, files)
            stored += [(f"alice/{index}", name, version, paths) for index in (INDEXES if plain else ("gated",))]
        self.server.stop()
        with StoppedKeyfs(self.server.serverdir) as keyfs:
            keyfs.store_releases(stored)
        self.server.start()
        for name, version, files, _plain in releases:
            self.approve(name, version, files)

    def probe(self, name: str) -> dict[str, float]:
        """One governed upload and its approval: the latencies and the approval's keyfs bytes."""
        started = time.perf_counter()
        self.upload("gated", name, "1.0")
        # Generous: after the restart with thousands of new files, the start-up sweep may hold the
        # lock that opening a request takes; the slowest probe is reported, not hidden.
        request = self.server.request_for(name, "1.0", timeout=PROBE_TIMEOUT)
        opened = time.perf_counter() - started
        while not any(d.status == 201 and d.payload_json().get("request") == request.id for d in self.push.deliveries):
            if time.perf_counter() - started > PROBE_TIMEOUT:
                raise SystemExit(f"no push message about request {request.id} within {PROBE_TIMEOUT} s")
            time.sleep(0.005)
        delivered = time.perf_counter() - started
        with changelog(self.server) as grown:
            installable = self.approve(name, "1.0")
        return {"opened": opened, "delivered": delivered, "installable": installable, "bytes": grown()}


@contextmanager
def changelog(server: DevpiServer) -> Iterator[Callable[[], int]]:
    """The bytes devpi's changelog gains in the block (what a replica receives)."""
    database = sqlite3.connect(f"file:{server.serverdir / '.sqlite'}?mode=ro", uri=True)
    try:
        (before,) = database.execute("SELECT max(serial) FROM changelog").fetchone()
        grown: list[int] = []
        yield lambda: grown[0]
        (size,) = database.execute("SELECT sum(length(data)) FROM changelog WHERE serial > ?", (before,)).fetchone()
        grown.append(size or 0)
    finally:
        database.close()


def bulk(approved: int, target: int, files: int) -> list[tuple[str, str, int, bool]]:
    """Releases of ``files`` files (on the tpp index only) that bring ``approved`` files up to ``target``."""
    return [(f"bench-bulk-{n}", "1.0", files, False) for n in range(approved, target - files + 1, files)]


def throughput(urls: list[str], accept: str, seconds: float, clients: int) -> float:
    """Requests per second of ``clients`` keep-alive clients fetching ``urls`` round-robin."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        with requests.Session() as http:
            page = n
            while time.monotonic() < stop:
                answer = http.get(urls[page % len(urls)], headers={"Accept": accept}, timeout=30)
                if answer.status_code != 200 or "bench" not in answer.text:
                    raise RuntimeError(f"{answer.status_code} from {answer.url}")
                counts[n] += 1
                page += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def upload_time(gate: Gate, index: str, round_: int) -> float:
    files = [wheel(gate.dist, f"bench-up-{index}-{round_}-{n}", "1.0") for n in range(10)]
    started = time.perf_counter()
    answer = gate.server.twine_upload("alice", index, *files)
    elapsed = time.perf_counter() - started
    if answer.returncode:
        raise SystemExit(f"twine upload to {index} failed:\n{answer.stdout}{answer.stderr}")
    return elapsed


def peak_rss_mb(server: DevpiServer) -> float:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024


def median_ratio(rounds: list[dict[str, float]]) -> float:
    return statistics.median(r["gated"] / r["plain"] for r in rounds)


def report(label: str, plain: float, gated: float, ratio: float, goal: str, met: bool, unit: str) -> None:
    verdict = "met" if met else "MISSED"
    print(f"  {label:<40} plain {plain:8.1f}{unit}  tpp {gated:8.1f}{unit}  ratio {ratio:5.2f}  goal {goal} {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one throughput round (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per index (default 5)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--small", type=int, default=20, help="small projects, 2 versions of 1 file (default 20)")
    parser.add_argument("--big-versions", type=int, default=300, help="versions of the big project (default 300)")
    parser.add_argument("--big-files", type=int, default=3, help="files per version of the big project (default 3)")
    parser.add_argument("--approved", type=int, default=5000, help="approved files at the second probe (default 5000)")
    parser.add_argument("--bulk-files", type=int, default=50, help="files per release to get there (default 50)")
    parser.add_argument(
        "--replica-releases",
        type=int,
        default=7,
        help="releases approved through a replica's primary (default 7; 0: skip)",
    )
    parser.add_argument("--probes", type=int, default=5, help="one-file releases per probe (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root, LoopbackPushService() as push:
        key, public = generate(Path(root))
        vapid = ("--tpp-vapid-private-key", str(key), "--tpp-vapid-subject", "mailto:ops@example.org")
        server = DevpiServer(Path(root), *vapid, cheap_hashes=False).start()  # uploads pay devpi's real hashing
        try:
            return run(args, server, push, public, Path(root))
        finally:
            server.stop()


def run(args: argparse.Namespace, server: DevpiServer, push: LoopbackPushService, public: str, root: Path) -> int:
    server.create_user("alice")
    alice = Browser(server.url, "alice").sign_in()
    device = alice.enrol()
    with Session(server.engine) as session:
        listen(session, device, push.subscribe(application_server_key=public))
    for index in INDEXES:
        server.create_index("alice", index, type="tpp" if index == "gated" else "stage")
    server.set_policy(Policy(scope=Scope.prefix("bench-"), version=1, groups=(group("g", "alice"),)), by="alice")
    dist = root / "dist"
    dist.mkdir()
    gate = Gate(server, alice, push, dist)

    started = time.perf_counter()
    small = [f"bench-small-{p:02}" for p in range(args.small)]
    gate.publish([(name, version, 1, True) for name in small for version in ("1.0", "1.1")])
    gate.publish(bulk(gate.approved, 100 - args.probes, args.bulk_files))
    first = [gate.probe(f"bench-probe-a{n}") for n in range(args.probes)]
    at_first = gate.approved - args.probes // 2
    big = [("bench-big", f"1.{version}", args.big_files, True) for version in range(args.big_versions)]
    gate.publish(
        big + bulk(gate.approved + args.big_versions * args.big_files, args.approved - args.probes, args.bulk_files)
    )
    second = [gate.probe(f"bench-probe-b{n}") for n in range(args.probes)]
    at_second = gate.approved - args.probes // 2
    setup = time.perf_counter() - started
    print(f"devpi gate: {gate.approved} files approved on the tpp index (set up in {setup:.0f} s)")

    shapes = {"small projects": small, f"bench-big ({args.big_versions} x {args.big_files})": ["bench-big"]}
    pages: dict[str, list[dict[str, float]]] = {}
    uploads: list[dict[str, float]] = []
    for round_ in range(args.rounds):
        order = INDEXES if round_ % 2 == 0 else INDEXES[::-1]
        for shape, names in shapes.items():
            for kind, accept in PAGES.items():
                result = {}
                for index in order:
                    urls = [f"{server.url}/alice/{index}/+simple/{name}/" for name in names]
                    result[index] = throughput(urls, accept, args.seconds, args.clients)
                pages.setdefault(f"simple page, {shape}, {kind}", []).append(result)
        uploads.append({index: upload_time(gate, index, round_) for index in order})

    print(f"  keyfs bytes per approval (median of {args.probes} one-file approvals):")
    low, high = (statistics.median(p["bytes"] for p in probes) for probes in (first, second))
    verdict = "met" if high / low <= 1.1 else "MISSED"
    print(f"    at {at_first} approved files: {low:.0f} B; at {at_second}: {high:.0f} B;", end=" ")
    print(f"ratio {high / low:.2f} (goal <= 1.1) {verdict}")
    print(f"  throughput ({args.clients} clients, {args.rounds} rounds of {args.seconds:g} s, requests/s):")
    for label, rounds in pages.items():
        plain, gated = (statistics.median(r[i] for r in rounds) for i in INDEXES)
        ratio = median_ratio(rounds)
        report(label, plain, gated, ratio, ">= 0.95", ratio >= 0.95, "/s")
    plain, gated = (statistics.median(r[i] for r in uploads) for i in INDEXES)
    ratio = median_ratio(uploads)
    report("twine upload of 10 governed wheels", plain, gated, ratio, "<= 1.15", ratio <= 1.15, " s")
    probes = first + second
    for what, key in (
        ("upload -> request open", "opened"),
        ("upload -> push delivered", "delivered"),
        ("approval -> installable on the primary", "installable"),
    ):
        times = sorted(p[key] * 1000 for p in probes)
        print(
            f"  {what:<40} median {statistics.median(times):7.0f} ms  (fastest {times[0]:.0f}, slowest {times[-1]:.0f})"
        )
    if args.replica_releases:  # a primary and a replica of their own (bench/devpi_replica.py)
        times = sorted(t * 1000 for t in measure_replica(args.replica_releases)["installable"])
        print(
            f"  {'approval -> installable on a replica':<40} median {statistics.median(times):7.0f} ms"
            f"  (fastest {times[0]:.0f}, slowest {times[-1]:.0f})"
        )
    print(f"  peak memory of the server (VmHWM) at {gate.approved} approved files: {peak_rss_mb(server):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
