"""What the gate costs on devpi: simple-index throughput (bar: tpp/plain >= 0.9) and twine upload
time (bar: tpp/plain <= 1.15), a plain index and a ``tpp`` index with the same 200 approved releases.

Run with ``python bench/devpi_gate.py`` (``--seconds S`` per throughput round, ``--rounds N``). One
devpi-server with the plugin serves both indexes, so both are measured in one run on one machine:
50 projects x 4 versions are uploaded to each (and approved on the tpp index, one WebAuthn approval
per release, through the HTTP endpoints), then rounds alternate between the indexes:

* throughput: ``--clients`` threads fetch ``/+simple/<project>/`` pages round-robin for S seconds;
* upload: one ``twine upload`` of 10 new wheels, timed from start to exit.

It prints both medians, their ratios and PASS/FAIL, and exits non-zero if a ratio misses its bar.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from tpp_core import Policy, Scope

# The live-server helpers of the end-to-end tests; the repository root is not on the path when
# the script runs as ``python bench/devpi_gate.py``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.common.devpi import Browser, DevpiServer, wheel
from tests.common.scenario import group

PROJECTS, VERSIONS = 50, 4
THROUGHPUT_BAR, UPLOAD_BAR = 0.9, 1.15
INDEXES = {"plain": {"type": "stage"}, "gated": {"type": "tpp"}}


def populate(server: DevpiServer, dist: Path, alice: Browser) -> None:
    """The same 200 releases on both indexes; every release of the tpp index approved."""
    server.set_policy(Policy(scope=Scope.prefix("bench-"), version=1, groups=(group("g", "alice"),)), by="alice")
    files = [wheel(dist, f"bench-{p:02}", f"1.{v}") for p in range(PROJECTS) for v in range(VERSIONS)]
    for index in INDEXES:
        upload = server.twine_upload("alice", index, *files)
        if upload.returncode:
            raise SystemExit(f"upload to {index} failed:\n{upload.stdout}{upload.stderr}")
    for p in range(PROJECTS):
        for v in range(VERSIONS):
            request = server.request_for(f"bench-{p:02}", f"1.{v}", timeout=60)
            answer = alice.decide(request.id, "approve")
            if answer.json().get("state") != "approved":
                raise SystemExit(f"approval failed: {answer.text}")


def throughput(url: str, seconds: float, clients: int) -> float:
    """Simple-page requests per second, ``clients`` keep-alive connections fetching round-robin."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        with requests.Session() as http:
            page = n
            while time.monotonic() < stop:
                answer = http.get(f"{url}/+simple/bench-{page % PROJECTS:02}/", timeout=10)
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


def upload_time(server: DevpiServer, index: str, dist: Path, round_: int) -> float:
    files = [wheel(dist, f"fresh-{index}-{round_}-{n}", "1.0") for n in range(10)]
    started = time.perf_counter()
    answer = server.twine_upload("alice", index, *files)
    elapsed = time.perf_counter() - started
    if answer.returncode:
        raise SystemExit(f"upload to {index} failed:\n{answer.stdout}{answer.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one throughput round (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per index (default 5)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        server = DevpiServer(Path(root)).start()
        try:
            server.create_user("alice")
            alice = Browser(server.url, "alice").sign_in()
            alice.enrol()
            for index, config in INDEXES.items():
                server.create_index("alice", index, **config)
            dist = Path(root) / "dist"
            dist.mkdir()
            started = time.perf_counter()
            populate(server, dist, alice)
            setup = time.perf_counter() - started
            print(f"devpi gate: {PROJECTS * VERSIONS} releases on each index (set up in {setup:.0f} s)")
            rates: dict[str, list[float]] = {index: [] for index in INDEXES}
            uploads: dict[str, list[float]] = {index: [] for index in INDEXES}
            for round_ in range(args.rounds):
                for index in INDEXES:  # alternate, so drift on the machine hits both alike
                    rates[index].append(throughput(f"{server.url}/alice/{index}", args.seconds, args.clients))
                    uploads[index].append(upload_time(server, index, dist, round_))
        finally:
            server.stop()
    rate = {index: statistics.median(values) for index, values in rates.items()}
    upload = {index: statistics.median(values) for index, values in uploads.items()}
    rate_ratio, upload_ratio = rate["gated"] / rate["plain"], upload["gated"] / upload["plain"]
    rate_ok, upload_ok = rate_ratio >= THROUGHPUT_BAR, upload_ratio <= UPLOAD_BAR
    rounds = f"median of {args.rounds} rounds"
    print(f"  simple pages: plain {rate['plain']:.0f}/s, tpp {rate['gated']:.0f}/s ({args.clients} clients, {rounds})")
    print(f"  -> ratio tpp/plain {rate_ratio:.2f} (bar >= {THROUGHPUT_BAR}) {'PASS' if rate_ok else 'FAIL'}")
    print(f"  twine upload of 10 wheels: plain {upload['plain']:.2f} s, tpp {upload['gated']:.2f} s ({rounds})")
    print(f"  -> ratio tpp/plain {upload_ratio:.2f} (bar <= {UPLOAD_BAR}) {'PASS' if upload_ok else 'FAIL'}")
    return 0 if rate_ok and upload_ok else 1


if __name__ == "__main__":
    sys.exit(main())
