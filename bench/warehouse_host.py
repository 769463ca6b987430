"""What TPP costs a Warehouse-shaped registry: the Warehouse-shaped test host (tests/warehouse_host)
on PostgreSQL with 50,000 files, with TPP included against the same host without it, in one run.
Goals: throughput tpp/plain >= 0.95 on every page, upload time tpp/plain <= 1.15.

Run with ``python bench/warehouse_host.py`` from the repository root, with PostgreSQL on
127.0.0.1:5432 (or ``TPP_TEST_POSTGRESQL``); ``--rounds N``, ``--seconds S`` and more, see ``--help``.
It creates two databases of its own and drops them at the end. Each gets the host's tables and
TPP's (``create_database``) and the same rows, inserted in bulk: 4,500 projects x 5 releases x
2 files, and one big project, ``bench-big``, of 500 releases x 10 files. In the ``tpp`` database the
newest release of ``bench-big`` (10 files) and 2 files of an older one are held in TPP's tables, and
``bench-upload`` has a policy. Each host is served by waitress on loopback in a process of its own:
TPP's hiding and capture listeners attach to the host's classes, so a process that included TPP
has no TPP-free host left. It checks that only the plain host shows the held files, then
alternates rounds between the hosts (and which goes first), so drift on the machine affects both:

* pages: ``--clients`` keep-alive connections (default 1) fetch one page for S seconds:
  ``/simple/bench-big/`` as HTML and as PEP 691 JSON, the ``/simple/`` index, ``/pypi/bench-big/json``;
* uploads: ``--uploads`` twine-like ``/legacy/`` file uploads of new versions of ``bench-upload``
  (on the ``tpp`` host each one is held and opens a request) and of ``bench-free`` (no policy).

TPP opens a held upload's request in a job: by default (``--queue redis``) the ``tpp`` host has
``tpp.redis_url`` and a ``tpp worker --app`` process runs the jobs, as in production, and the script
also reports how long after the upload started its request was open; ``--queue in-process`` (the
embedded default, no Redis) opens it before the upload's response.

Each figure is taken against the wall clock and per CPU second of the host's processes (the
worker's included) and their PostgreSQL backends (``/proc``), which a busy shared machine disturbs
far less. It prints the medians, the medians of the rounds' ratios and whether each meets its goal,
and always exits 0: the figures are for people to read (docs/benchmarks.rst), not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import requests
from redis import Redis
from sqlalchemy import Engine, insert, select, text

from tpp_warehouse.cli import main as tpp
from tpp_warehouse.warehouse.holds import HeldFile, hold_file, hold_release

# The test host and its helpers live with the tests; the repository root is not on the path when
# the script runs as ``python bench/warehouse_host.py``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.common.databases import PostgreSQLDatabases
from tests.common.services import POSTGRESQL_URL, REDIS_URL
from tests.warehouse.conftest import PEOPLE, TOKEN, basic, open_world
from tests.warehouse.dists import wheel
from tests.warehouse_host import configure, create_database, make_app
from tests.warehouse_host.models import File, Project, Release, Role, User

SMALL, SMALL_RELEASES, SMALL_FILES = 4500, 5, 2
BIG, BIG_RELEASES, BIG_FILES = "bench-big", 500, 10
_STEM = BIG.replace("-", "_")  # of its filenames
GATED, FREE = "bench-upload", "bench-free"  # FREE: no policy, so TPP only checks it is ungated
THROUGHPUT_GOAL, UPLOAD_GOAL = 0.95, 1.15
HOSTS = ("plain", "tpp")
UPLOADS = {"upload, gated on tpp": GATED, "upload, ungated": FREE}
PAGES = {  # label: (path, Accept)
    "/simple/bench-big/ HTML": (f"/simple/{BIG}/", "text/html"),
    "/simple/bench-big/ JSON": (f"/simple/{BIG}/", "application/vnd.pypi.simple.v1+json"),
    "/simple/ index": ("/simple/", "text/html"),
    "/pypi/bench-big/json": (f"/pypi/{BIG}/json", "application/json"),
}


def _filenames(project: str, version: str, count: int) -> list[tuple[str, str]]:
    """(filename, packagetype): an sdist, then a wheel per CPython version from 3.8 on."""
    stem = f"{project.replace('-', '_')}-{version}"
    wheels = [(f"{stem}-cp3{n}-cp3{n}-manylinux_2_17_x86_64.whl", "bdist_wheel") for n in range(8, 7 + count)]
    return [(f"{stem}.tar.gz", "sdist"), *wheels]


def populate(engine: Engine) -> int:
    """The same projects, releases and files in every database, in bulk; returns the file count."""
    layout = [(f"bench-{n:04}", SMALL_RELEASES, SMALL_FILES) for n in range(SMALL)]
    layout += [(BIG, BIG_RELEASES, BIG_FILES), (GATED, 0, 0), (FREE, 0, 0)]
    projects: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    releases: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    with engine.begin() as connection:
        ci = connection.execute(select(User.id).where(User.username == "ci")).scalar_one()
        for project_id, (name, release_count, file_count) in enumerate(layout, 1):
            projects.append({"id": project_id, "name": name, "normalized_name": name, "last_serial": 0})
            roles.append({"id": project_id, "role_name": "Owner", "user_id": ci, "project_id": project_id})
            for r in range(release_count):
                release_id, version = len(releases) + 1, f"1.{r}"
                releases.append(
                    {"id": release_id, "project_id": project_id, "version": version, "canonical_version": version}
                )
                for filename, packagetype in _filenames(name, version, file_count):
                    digest = hashlib.blake2b(filename.encode(), digest_size=32).hexdigest()
                    files.append(
                        {
                            "id": len(files) + 1,
                            "release_id": release_id,
                            "filename": filename,
                            "path": f"{digest[:2]}/{digest[2:4]}/{digest[4:]}/{filename}",
                            "packagetype": packagetype,
                            "python_version": "source" if packagetype == "sdist" else "py3",
                            "size": 1000,
                            "md5_digest": digest[:32],
                            "sha256_digest": hashlib.sha256(filename.encode()).hexdigest(),
                            "blake2_256_digest": digest,
                            "metadata_file_sha256_digest": None,
                        }
                    )
        for model, rows in ((Project, projects), (Role, roles), (Release, releases), (File, files)):
            connection.execute(insert(model), rows)
            table = model.__tablename__
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(rows)})"))
    return len(files)


def hold_some(engine: Engine) -> list[str]:
    """Hold the newest release of the big project and two files of an older one; their filenames."""
    newest, older = f"1.{BIG_RELEASES - 1}", "1.100"
    query = select(File.filename, File.sha256_digest, File.size, File.path, Release.version).join(Release)
    with engine.begin() as connection:
        held = [
            *connection.execute(query.where(Release.version == newest, Release.project_id == _id(connection, BIG))),
            *connection.execute(
                query.where(Release.version == older, Release.project_id == _id(connection, BIG))
            ).all()[:2],
        ]
        now = datetime.now(UTC)
        hold_release(connection, BIG, newest, at=now)
        for filename, sha256, size, path, version in held:
            facts = HeldFile(
                filename=filename, sha256=sha256, size=size, path=path, project=BIG, version=version, uploader="ci"
            )
            hold_file(connection, facts, at=now)
    return [row[0] for row in held]


def _id(connection: Any, project: str) -> int:
    return int(connection.execute(select(Project.id).where(Project.normalized_name == project)).scalar_one())


def _app(host: str, database_url: str, files: str, quarantine: str, queue: str) -> Any:
    """The host's app: TPP included only for ``tpp``, with its jobs on Redis unless ``queue`` is "-"."""
    options: dict[str, Any] = {"tokens": {TOKEN: "ci"}, "files": files}
    if host != "tpp":
        return configure(database_url, **options).make_wsgi_app()
    jobs = {} if queue == "-" else {"tpp.redis_url": REDIS_URL, "tpp.queue_name": queue}
    return make_app(database_url, **options, **{"tpp.quarantine.url": quarantine}, **jobs)


def serve(host: str, port: int, *app: str) -> None:
    """One host under waitress (this script run with ``--serve``)."""
    import waitress

    waitress.serve(_app(host, *app), host="127.0.0.1", port=port, threads=4, _quiet=True)


_worker_app: list[str] = []


def worker_app() -> Any:
    """What ``tpp worker --app`` builds in the worker process (this script run with ``--work``)."""
    return _app("tpp", *_worker_app)


def work(*app: str) -> int:
    """Run ``tpp worker --app`` on the ``tpp`` host's app, as an operator of Warehouse would."""
    _worker_app.extend(app)
    return tpp(["worker", "--app", "__main__:worker_app"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Served:
    """A host being served: its URL, and what does its work (its process, its database's backends)."""

    url: str
    pids: tuple[int, ...]
    database: str
    admin: psycopg.Connection[Any]
    #: A connection of the script's own to the host's database, to see requests open (``tpp`` only).
    watcher: psycopg.Connection[Any] | None

    def cpu(self) -> float:
        """CPU seconds used so far by the host's processes and the PostgreSQL backends serving them
        (not the watcher's): on a shared machine they vary far less than wall times (another
        process's burst costs no CPU here)."""
        query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s"
        watcher = self.watcher.info.backend_pid if self.watcher else 0
        backends = [row[0] for row in self.admin.execute(query, (self.database, watcher))]
        return sum(_cpu_seconds(pid) for pid in [*self.pids, *backends])

    def opened(self, project: str, versions: list[str]) -> bool:
        """Whether every one of these versions of ``project`` has its request open."""
        assert self.watcher is not None
        query = "SELECT count(*) FROM tpp_requests WHERE project = %s AND version = ANY(%s)"
        (count,) = self.watcher.execute(query, (project, versions)).fetchone() or (0,)
        return bool(count == len(versions))


def _cpu_seconds(pid: int) -> float:
    try:  # utime and stime, the 14th and 15th fields of proc(5)'s stat, after the command in parentheses
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(host: str, databases: PostgreSQLDatabases, database: str, root: Path, queue: str) -> Iterator[Served]:
    """The host in a process of its own (and, for ``tpp`` with Redis, its worker), once it answers."""
    port, log = _free_port(), root / f"{host}.log"
    app = [databases.url(database), str(root / f"{host}-files"), str(root / f"{host}-quarantine"), queue]
    commands = [[sys.executable, __file__, "--serve", host, str(port), *app]]
    if host == "tpp" and queue != "-":
        commands.append([sys.executable, __file__, "--work", *app])
    with log.open("w") as output:
        processes = [subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT) for command in commands]
    url = f"http://127.0.0.1:{port}"
    watcher = psycopg.connect(databases.server_url(database), autocommit=True) if host == "tpp" else None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/simple/", timeout=10).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                raise SystemExit(f"the {host} host did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Served(url, tuple(p.pid for p in processes), database, databases.admin, watcher)
    finally:
        if watcher is not None:
            watcher.close()
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def check(hosts: dict[str, Served], held: list[str]) -> None:
    """Both hosts serve the big project; only the plain one shows the held files."""
    for label, (path, accept) in PAGES.items():
        for host, served_ in hosts.items():
            page = requests.get(served_.url + path, headers={"Accept": accept}, timeout=60)
            shown = [name for name in held if name in page.text]
            index = path == "/simple/"  # lists projects, not files
            wanted, always = ([], BIG) if index else (held if host == "plain" else [], f"{_STEM}-1.0.tar.gz")
            if page.status_code != 200 or always not in page.text or shown != wanted:
                raise SystemExit(f"{host} {label}: {page.status_code}, held files shown: {shown}")


def throughput(url: str, accept: str, seconds: float, clients: int) -> tuple[int, float]:
    """Requests of one page, and the seconds they took: ``clients`` keep-alive connections fetch it
    for ``seconds``, each finishing the request under way; the time runs until the last finished."""
    counts = [0] * clients
    started = time.monotonic()
    stop = started + seconds

    def client(n: int) -> None:
        with requests.Session() as http:
            while time.monotonic() < stop:
                answer = http.get(url, headers={"Accept": accept}, timeout=60)
                if answer.status_code != 200:
                    raise RuntimeError(f"{answer.status_code} from {answer.url}")
                counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts), time.monotonic() - started


def upload_time(served_: Served, host: str, project: str, version: str) -> tuple[float, float | None]:
    """Seconds for one twine-like upload of a new version of ``project``, request to response; and
    for a held one, until its request was open (seen in the database, polled every millisecond)."""
    filename, data = wheel(project.replace("-", "_"), version)
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": project,
        "version": version,
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "metadata_version": "2.1",
        "sha256_digest": hashlib.sha256(data).hexdigest(),
    }
    started = time.perf_counter()
    answer = requests.post(
        f"{served_.url}/legacy/", data=form, files={"content": (filename, data)}, headers=basic(TOKEN), timeout=60
    )
    elapsed = time.perf_counter() - started
    held = host == "tpp" and project == GATED
    if answer.status_code != 200 or held != ("is held: nobody can install it" in answer.text):
        raise SystemExit(f"upload of {filename} to {host}: {answer.status_code} {answer.text}")
    if not held:
        return elapsed, None
    deadline = started + 60
    while not served_.opened(project, [version]):
        if time.perf_counter() > deadline:
            raise SystemExit(f"the request of {project} {version} did not open within a minute")
        time.sleep(0.001)
    return elapsed, time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Figure:
    """One page's requests per wall second and per CPU second, or one upload's wall and CPU seconds:
    medians per host, and ratios tpp/plain as medians of the rounds' ratios (each round measures
    both hosts back to back, so a ratio sees little drift)."""

    wall: dict[str, float]
    cpu: dict[str, float]
    wall_ratio: float
    cpu_ratio: float


def _figure(wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> Figure:
    def ratio(values: dict[str, list[float]]) -> float:
        return statistics.median(t / p for t, p in zip(values["tpp"], values["plain"], strict=True))

    medians = {
        name: {host: statistics.median(v) for host, v in values.items()}
        for name, values in (("wall", wall), ("cpu", cpu))
    }
    return Figure(medians["wall"], medians["cpu"], ratio(wall), ratio(cpu))


def measure(hosts: dict[str, Served], args: argparse.Namespace) -> tuple[dict[str, Figure], list[float]]:
    """Every page and upload on both hosts, rounds alternating which host goes first; and the times
    from a gated upload's start until its request was open."""
    labels = [*PAGES, *UPLOADS]
    opening: list[float] = []
    wall: dict[str, dict[str, list[float]]] = {label: {host: [] for host in HOSTS} for label in labels}
    cpu: dict[str, dict[str, list[float]]] = {label: {host: [] for host in HOSTS} for label in labels}
    for path, accept in PAGES.values():  # warm both up: compiled-statement caches, PostgreSQL's buffers
        for served_ in hosts.values():
            throughput(served_.url + path, accept, 1.0, args.clients)
    for round_ in range(args.rounds):
        order = HOSTS if round_ % 2 == 0 else HOSTS[::-1]
        for label, (path, accept) in PAGES.items():
            for host in order:
                before = hosts[host].cpu()
                count, seconds = throughput(hosts[host].url + path, accept, args.seconds, args.clients)
                wall[label][host].append(count / seconds)
                cpu[label][host].append(count / (hosts[host].cpu() - before))
        for label, project in UPLOADS.items():
            for host in order:
                before = hosts[host].cpu()
                times = [upload_time(hosts[host], host, project, f"2.{round_}.{n}") for n in range(args.uploads)]
                wall[label][host].append(statistics.median(upload for upload, _ in times))
                # Every request is open by now: the CPU figure includes opening them (and the worker).
                cpu[label][host].append((hosts[host].cpu() - before) / args.uploads)
                opening.extend(opened for _, opened in times if opened is not None)
    return {label: _figure(wall[label], cpu[label]) for label in labels}, opening


def report(results: dict[str, Figure], opening: list[float], args: argparse.Namespace) -> None:
    print(f"  {'':26}{'wall: plain':>13}{'tpp':>10}{'ratio':>7}{'CPU: plain':>13}{'tpp':>10}{'ratio':>7}  goal, CPU")
    for label, figure in results.items():
        if label in PAGES:
            goal, met, unit, scale = f">= {THROUGHPUT_GOAL}", figure.cpu_ratio >= THROUGHPUT_GOAL, "/s", 1.0
        else:
            goal, met, unit, scale = f"<= {UPLOAD_GOAL}", figure.cpu_ratio <= UPLOAD_GOAL, "ms", 1000.0
        columns = "".join(
            f"{values['plain'] * scale:>11.1f}{unit}{values['tpp'] * scale:>8.1f}{unit}{ratio:>7.2f}"
            for values, ratio in ((figure.wall, figure.wall_ratio), (figure.cpu, figure.cpu_ratio))
        )
        print(f"  {label:26}{columns}  {goal} {'met' if met else 'MISSED'}")
    print(
        f"  medians of {args.rounds} rounds ({args.clients} clients x {args.seconds:g} s per page,"
        f" {args.uploads} uploads per host and project); ratios: medians of the rounds' ratios."
        " Pages: requests per wall second, and per CPU second of the host's process and its"
        " PostgreSQL backends; uploads: wall and CPU milliseconds per upload."
    )
    where = "on the worker (tpp.redis_url)" if args.queue == "redis" else "in the upload's response"
    print(
        f"  gated upload -> its request open, {where}: median {statistics.median(opening) * 1000:.1f} ms,"
        f" max {max(opening) * 1000:.1f} ms ({len(opening)} uploads)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds per host (default 10)")
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one throughput round (default 1.5)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients (default 1)")
    parser.add_argument("--uploads", type=int, default=5, help="uploads per host and project per round (default 5)")
    parser.add_argument(
        "--queue",
        choices=("redis", "in-process"),
        default="redis",
        help="where TPP's jobs run: Redis and a worker (default), or in the host's process",
    )
    parser.add_argument("--serve", nargs=6, help=argparse.SUPPRESS)  # HOST PORT URL FILES QUARANTINE QUEUE
    parser.add_argument("--work", nargs=4, help=argparse.SUPPRESS)  # URL FILES QUARANTINE QUEUE
    args = parser.parse_args()
    if args.serve:
        host, port, *app = args.serve
        serve(host, int(port), *app)
        return 0
    if args.work:
        return work(*args.work)
    admin = psycopg.connect(POSTGRESQL_URL, autocommit=True, connect_timeout=5)
    databases = PostgreSQLDatabases(admin, POSTGRESQL_URL)
    try:
        with tempfile.TemporaryDirectory() as directory:
            root, names = Path(directory), {host: f"{databases.prefix}_{host}" for host in HOSTS}
            queue = f"{databases.prefix}_jobs" if args.queue == "redis" else "-"
            for name in names.values():
                databases.create(name)
            started = time.perf_counter()
            plain = create_database(databases.url(names["plain"]), *PEOPLE)
            count = populate(plain)
            plain.dispose()
            for world in open_world(databases.url(names["tpp"]), root):  # the host with TPP's test helpers
                populate(world.engine)
                held = hold_some(world.engine)
                world.registry.host.owners_of[GATED] = {"lead"}
                world.gate(GATED)
            setup = time.perf_counter() - started
            print(f"warehouse host: {count} files on each database, {len(held)} held on tpp (set up in {setup:.0f} s)")
            with (
                served("plain", databases, names["plain"], root, queue) as plain_host,
                served("tpp", databases, names["tpp"], root, queue) as tpp_host,
            ):
                hosts = {"plain": plain_host, "tpp": tpp_host}
                check(hosts, held)
                results, opening = measure(hosts, args)
            report(results, opening, args)
            if queue != "-":
                Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue}")
    finally:
        databases.close()
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
