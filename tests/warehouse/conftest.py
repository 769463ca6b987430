"""The Warehouse-shaped host (tests/warehouse_host) with TPP included, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from webtest import TestApp

from tests.common.clock import FixedClock
from tests.common.databases import Databases, Slot
from tests.common.host import MemoryHost
from tests.common.registry import Registry
from tests.common.scenario import group
from tests.common.services import require
from tests.warehouse_host import ORIGIN, create_database, make_app
from tpp_core import Policy, Scope, Verdict
from tpp_warehouse.db import make_engine

from .dists import wheel

PEOPLE = ("ci", "lead", "cora", "dave", "mallory", "root")
TOKEN = "pypi-ci-token"


def status_url_of(text: str) -> str:
    """The status URL in the answer to a held upload."""
    match = re.search(r"is held: nobody can install it until its approvers approve it; status: (\S+)", text)
    assert match, text
    return match[1]


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()}


@dataclass
class World:
    """The host app over WebTest, its registry (for jobs), and TPP's services on the same database."""

    app: TestApp
    registry: Registry
    engine: Engine
    files: Path
    quarantine: Path

    @property
    def pyramid(self) -> Any:
        return self.app.app.registry

    def gate(self, project: str = "acme", *approvers: str) -> None:
        """Give ``project`` a policy: one seat among ``approvers`` (default lead, cora)."""
        people = approvers or ("lead", "cora")
        self.registry.enrol(*people, ready=False)
        policy = Policy(scope=Scope.project(project), version=1, groups=(group("maintainers", *people),))
        self.registry.set_policy(policy, by=people[0])
        self.registry.session.commit()

    def request_of(self, answer: Any) -> str:
        """The request an upload's answer points to: its status URL, read with the upload token,
        redirects to the request's status JSON."""
        release_status = self.app.get(urlsplit(status_url_of(answer.text)).path, headers=basic(TOKEN), status=303)
        status: dict[str, Any] = release_status.follow(headers=basic(TOKEN)).json
        assert status["state"] == "verifying", status
        return str(status["id"])

    def upload(
        self, dist: tuple[str, bytes] | None = None, *, status: int = 200, token: str = TOKEN, **extra: Any
    ) -> Any:
        """Upload ``dist`` (default: acme 1.0's wheel) as twine does; ``extra`` replaces or adds fields."""
        filename, data = dist or wheel()
        name, version = filename.removesuffix(".tar.gz").split("-")[:2]
        params = [
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("name", name),
            ("version", version),
            ("filetype", "bdist_wheel" if filename.endswith(".whl") else "sdist"),
            ("pyversion", "py3"),
            ("metadata_version", "2.1"),
            ("sha256_digest", hashlib.sha256(data).hexdigest()),
        ]
        params = [(key, extra.pop(key, value)) for key, value in params] + list(extra.items())
        return self.app.post(
            "/legacy/", params=params, upload_files=[("content", filename, data)], headers=basic(token), status=status
        )

    def decide(
        self, request_id: str, person: str, verdict: Verdict = Verdict.APPROVE, *, url: str | None = None
    ) -> None:
        """Decide over HTTP as request.js does: sign in to the host, begin, sign with the person's
        authenticator, decide (publishing or purging runs after the decision commits). Through
        WebTest on the app, or over the socket of the server at ``url``."""
        browser: _Browser = (
            _SocketBrowser(url) if url else _WebTestBrowser(TestApp(self.app.app, extra_environ=self.app.extra_environ))
        )
        browser.post("/login", {"person": person})
        page = f"/tpp/requests/{request_id}"
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', browser.get(page))
        assert match, f"no CSRF token on {page}"
        headers = {"Accept": "application/json", "X-CSRF-Token": match[1]}
        ceremony = browser.post_json(f"{page}/begin", {"verdict": verdict.value}, headers)
        assertion = self.registry.authenticators[person].get(json.loads(ceremony["options"]), ORIGIN)
        credential = {"id": ceremony["id"], "credential": json.dumps(assertion)}
        browser.post_json(f"{page}/decide", {"verdict": verdict.value, "ceremony": credential}, headers)


class _Browser(Protocol):
    """A browser of its own (its own cookies) that signs in and calls TPP's pages."""

    def get(self, path: str) -> str: ...

    def post(self, path: str, form: dict[str, str]) -> None: ...

    def post_json(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any: ...


class _WebTestBrowser:
    def __init__(self, client: TestApp) -> None:
        self.client = client

    def get(self, path: str) -> str:
        return str(self.client.get(path).text)

    def post(self, path: str, form: dict[str, str]) -> None:
        self.client.post(path, form)

    def post_json(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        return self.client.post_json(path, body, headers=headers).json


class _SocketBrowser:
    def __init__(self, url: str) -> None:
        import requests

        self.url, self.session = url, requests.Session()

    def get(self, path: str) -> str:
        answer = self.session.get(self.url + path, timeout=30)
        answer.raise_for_status()
        return str(answer.text)

    def post(self, path: str, form: dict[str, str]) -> None:
        self.session.post(self.url + path, data=form, timeout=30, allow_redirects=False).raise_for_status()

    def post_json(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        answer = self.session.post(self.url + path, json=body, headers=headers, timeout=30)
        answer.raise_for_status()
        return answer.json()


def host_database(url: str) -> None:
    """The host's tables and :data:`PEOPLE`, then TPP's tables: what every world starts from."""
    create_database(url, *PEOPLE).dispose()


def local_storage(directory: Path) -> dict[str, str]:
    """Settings that store the host's files and TPP's held files in folders of ``directory``."""
    return {"files": str(directory / "files"), "tpp.quarantine.url": str(directory / "quarantine")}


def world_on(router: Any, database_url: str, directory: Path) -> Iterator[World]:
    """A world of the host app ``router`` on its database; the app's connections close after it."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        host = MemoryHost(owners_of={"acme": {"lead"}, "beta": {"lead"}})
        # The host's upload capture reads the wall clock.
        registry = Registry(session, host=host, clock=FixedClock(datetime.now(UTC)))
        app = TestApp(router, extra_environ={"HTTP_HOST": "localhost:6543"})
        yield World(app, registry, engine, directory / "files", directory / "quarantine")
    router.registry["host.engine"].dispose()
    engine.dispose()


def open_world(database_url: str, tmp_path: Path, **storage: Any) -> Iterator[World]:
    """The host, built for this world alone, on a database :func:`host_database` built; files stored
    locally unless ``storage`` says otherwise (``bucket``, ``s3`` and ``tpp.quarantine.*`` settings)."""
    router = make_app(database_url, tokens={TOKEN: "ci"}, **(storage or local_storage(tmp_path)))
    yield from world_on(router, database_url, tmp_path)


@pytest.fixture(scope="module")
def host_slot(backend: Databases) -> Slot:
    """The module's database URL, where each world finds the host's tables and people, and TPP's tables."""
    return backend.slot(host_database)


@pytest.fixture(scope="module")
def module_host(host_slot: Slot, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The host app storing files locally, built once per module and backend, and its folder."""
    directory = tmp_path_factory.mktemp("host")
    return make_app(host_slot.url, tokens={TOKEN: "ci"}, **local_storage(directory)), directory


@pytest.fixture
def world(host_slot: Slot, module_host: tuple[Any, Path]) -> Iterator[World]:
    """The module's host app on a fresh database, with empty folders and nothing purged yet."""
    router, directory = module_host
    host_slot.restore()
    for folder in ("files", "quarantine"):
        shutil.rmtree(directory / folder, ignore_errors=True)
    router.registry["host.purged"].clear()
    yield from world_on(router, host_slot.url, directory)


@dataclass
class S3:
    """moto's S3 server on loopback, and a client of it."""

    endpoint: str
    client: Any

    def keys(self, bucket: str) -> list[str]:
        return [item["Key"] for item in self.client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _moto_server() -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """One moto S3 server per module (buckets are reset per test); its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = require("moto S3 server", _moto_server)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3]:
    """Empty buckets ``tpp-quarantine`` and ``tpp-public``; boto3 clients made now find the fake credentials."""
    import boto3
    import requests

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_server)
    for bucket in ("tpp-quarantine", "tpp-public"):
        client.create_bucket(Bucket=bucket)
    yield S3(moto_server, client)
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
