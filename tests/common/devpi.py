"""A real devpi-server with the TPP plugin, and the real clients around it: twine, pip, a browser.

The server runs as a subprocess on a free port, reached as ``http://localhost:PORT`` (WebAuthn
refuses IP addresses), with devpi's fast argon2 parameters so it starts in about a second::

    server = DevpiServer(tmp_path).start()
    server.create_user("alice")
    server.create_index("alice", "rel")                  # type=tpp, volatile=False
    server.twine_upload("alice", "rel", wheel(tmp_path, "hello", "1.0"))
    browser = Browser(server.url, "alice").sign_in()
    browser.enrol()
    browser.decide(request_id, "approve")

Uploads reach TPP in devpi's notifier thread after the upload committed; :meth:`DevpiServer.request_for`
waits for the request.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.common import devpi_script
from tests.common.authenticator import SoftAuthenticator
from tpp_core import ApprovalGroup, ApprovalRequest, PersonId, Policy, ProjectName, RequestState, Scope
from tpp_devpi.serve import executable
from tpp_warehouse.db import make_engine
from tpp_warehouse.models import NotificationRecord, RequestRecord
from tpp_warehouse.policies import PolicyStore
from tpp_warehouse.request_store import RequestStore

PASSWORD = "secret-password"
#: devpi's own test fixtures use these: the server secret's derivation takes milliseconds, not ~10 s.
FAST_ARGON2 = ("--argon2-memory-cost", "8", "--argon2-parallelism", "1", "--argon2-time-cost", "1")
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(url: str, process: subprocess.Popen[Any], output: Callable[[], str]) -> None:
    """Wait until devpi at ``url`` answers ``/+api``; raise with ``output()`` if it exits or is slow."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"devpi-server exited with {process.returncode}:\n{output()}")
        try:
            if requests.get(f"{url}/+api", headers={"Accept": "application/json"}, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"devpi-server did not answer within 30 s:\n{output()}")


@functools.cache
def _initialized_serverdir() -> Path:
    """A server directory devpi-init prepared (root's password :data:`PASSWORD`, no root/pypi), once
    per process: each new server starts from a copy, which takes a millisecond where devpi-init takes
    seconds. Removed when the process exits."""
    directory = Path(tempfile.mkdtemp(prefix="tpp-devpi-init-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    serverdir = directory / "server"
    subprocess.run(
        devpi_script.command("devpi-init", "--serverdir", str(serverdir), "--no-root-pypi", "--root-passwd", PASSWORD),
        check=True,
        capture_output=True,
        cwd=devpi_script.ROOT,
    )
    return serverdir


class DevpiServer:
    """One devpi-server process with the plugin; :meth:`kill` and :meth:`start` again keep its data."""

    url: str  # http://localhost:PORT

    def __init__(
        self,
        root: Path,
        *options: str,
        offline: bool = True,
        primary: DevpiServer | None = None,
        cheap_hashes: bool = True,
    ) -> None:
        self.root = root
        self.cheap_hashes = cheap_hashes  # False: devpi's real password hashing (the benchmark's)
        self.primary = primary  # a replica's primary
        self.options = ("--primary-url", primary.url, *options) if primary else options  # more devpi-server options
        self.offline = offline and primary is None  # False lets mirror indexes fetch (from loopback servers only)
        self.serverdir = root / "server"
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.database_url = f"sqlite:///{self.serverdir / 'tpp.sqlite'}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "server.log"
        self._engine: Any = None

    # --- process ----------------------------------------------------------------------------------

    def start(self) -> DevpiServer:
        if self.serverdir.exists():
            pass
        elif self.primary is None:
            shutil.copytree(_initialized_serverdir(), self.serverdir)
        else:
            init = [executable("devpi-init"), "--serverdir", str(self.serverdir), "--role", "replica"]
            subprocess.run([*init, "--primary-url", self.primary.url], check=True, capture_output=True)
        secret = self.root / "secret"
        if self.primary is not None and not secret.exists():
            shutil.copy(self.primary.root / "secret", secret)  # a replica proves itself with the primary's secret
        if not secret.exists():
            secret.write_text(base64.b64encode(os.urandom(32)).decode())
            secret.chmod(0o600)
        arguments = (
            "--serverdir",
            str(self.serverdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *(("--offline-mode",) if self.offline else ()),
            "--secretfile",
            str(self.root / "secret"),
            *FAST_ARGON2,
            "--enable-core-metadata",
            "--tpp-device-cooldown",
            "0",
            *self.options,
        )
        command = (
            devpi_script.command("devpi-server", *arguments)
            if self.cheap_hashes
            else [executable("devpi-server"), *arguments]
        )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=devpi_script.ROOT)
        wait_until_answering(self.url, self.process, self.log.read_text)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._engine is not None:
            self._engine.dispose()

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def serial(self) -> int:
        """The newest keyfs serial the server has (a replica: that it imported from its primary)."""
        return int(requests.get(f"{self.url}/+api", timeout=10).headers["X-DEVPI-SERIAL"])

    def wait_for_serial(self, serial: int, timeout: float = 15) -> None:
        """Wait until the server has ``serial`` (a replica: imported it)."""
        deadline = time.monotonic() + timeout
        while self.serial() < serial:
            if time.monotonic() > deadline:
                raise AssertionError(f"serial {serial} not reached after {timeout} s:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.02)

    # --- devpi's HTTP API ---------------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Accept": "application/json", "Content-Type": "application/json", **(headers or {})}
        data = None if body is None else json.dumps(body)
        return requests.request(method, self.url + path, data=data, headers=sent, auth=auth, timeout=30)

    def token_header(self, user: str) -> dict[str, str]:
        """The ``X-Devpi-Auth`` header devpi-client sends after ``devpi login`` (a token from the password)."""
        answer = self.api("POST", "/+login", {"user": user, "password": PASSWORD})
        token = answer.json()["result"]["password"]
        return {"X-Devpi-Auth": base64.b64encode(f"{user}:{token}".encode()).decode()}

    def credential(self, user: str, kind: str) -> dict[str, Any]:
        """``api`` keywords that authenticate ``user`` by ``kind``: "password" (basic auth) or "token"."""
        return {"auth": (user, PASSWORD)} if kind == "password" else {"headers": self.token_header(user)}

    def create_user(self, name: str) -> None:
        answer = self.api("PUT", f"/{name}", {"password": PASSWORD, "email": f"{name}@example.org"})
        assert answer.status_code == 201, answer.text

    def create_index(self, user: str, index: str, **config: Any) -> Any:
        body = {"type": "tpp", "volatile": False, "bases": [], **config}
        return self.api("PUT", f"/{user}/{index}", body, auth=(user, PASSWORD))

    def twine_upload(self, user: str, index: str, *files: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "twine",
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "--verbose",
                "--repository-url",
                f"{self.url}/{user}/{index}/",
                "-u",
                user,
                "-p",
                PASSWORD,
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "COLUMNS": "500", "NO_COLOR": "1"},  # twine's messages on one line each
        )

    def pip(self, *args: str, index: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                *args,
                "--no-deps",
                "--no-cache-dir",
                "--isolated",
                "--disable-pip-version-check",
                "--index-url",
                f"{self.url}/{index}/+simple/",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def file_url(self, user: str, index: str, path: Path) -> str:
        """The ``+f/`` address devpi stores ``path`` under (it is derived from the content's sha256)."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return f"{self.url}/{user}/{index}/+f/{digest[:3]}/{digest[3:16]}/{path.name}"

    def stored(self, user: str, index: str, path: Path) -> bool:
        """Whether the file's bytes are on the server's disk."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return (self.serverdir / "+files" / user / index / "+f" / digest[:3] / digest[3:16] / path.name).exists()

    # --- TPP's database -------------------------------------------------------------------------------

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = make_engine(self.database_url)
        return self._engine

    def set_policy(self, policy: Policy, by: str) -> None:
        """The project's first policy, written as the policy page would (its page is tested elsewhere)."""
        with Session(self.engine) as session, session.begin():
            PolicyStore(session).add(policy, by=PersonId(by), at=datetime.now(UTC), request_id=None)

    def publish(self, approver: Browser, path: Path, project: str, version: str, index: str = "rel") -> None:
        """Upload ``path`` to the approver's tpp index and approve it alone (a one-person policy set
        first, unless the project has a policy already)."""
        with Session(self.engine) as session, session.begin():
            store = PolicyStore(session)
            scope = Scope.project(project)
            if store.record(scope) is None:
                person = PersonId(approver.person)
                groups = (ApprovalGroup(name="owner", members=frozenset({person}), seats=1),)
                store.add(
                    Policy(scope=scope, version=1, groups=groups), by=person, at=datetime.now(UTC), request_id=None
                )
        upload = self.twine_upload(approver.person, index, path)
        assert upload.returncode == 0, upload.stdout + upload.stderr
        request = self.request_for(project, version)
        answer = approver.decide(request.id, "approve")
        assert answer.json()["state"] == "approved", answer.text

    def lose_request(self, request_id: str) -> None:
        """Delete a request's row from TPP's database, as a lost database would (only a sweep reopens it)."""
        with Session(self.engine) as session, session.begin():
            session.execute(delete(RequestRecord).where(RequestRecord.id == request_id))

    def requests_of(self, project: str) -> list[ApprovalRequest]:
        with Session(self.engine) as session:
            return RequestStore(session).of_project(ProjectName(project))

    def request_for(
        self, project: str, version: str, files: int = 1, timeout: float = 15, state: RequestState | None = None
    ) -> ApprovalRequest:
        """The newest request of ``project`` ``version`` (in ``state``, if given) once it holds ``files``
        files (the hook runs after commit)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for request in self.requests_of(project):
                subject = request.subject
                if (
                    getattr(subject, "version", None) == version
                    and len(getattr(subject, "files", ())) >= files
                    and state in (None, request.state)
                ):
                    return request
            time.sleep(0.05)
        raise AssertionError(f"no request for {project} {version} after {timeout} s:\n{self.log.read_text()[-3000:]}")

    def wait_for_log(self, text: str, timeout: float = 15) -> None:
        """Wait until the server's log says ``text`` (what runs in its background threads)."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            if time.monotonic() > deadline:
                raise AssertionError(f"the server never logged {text!r}:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def notified(self, request_id: str) -> set[tuple[str, str]]:
        """(person, reason) of the outbox rows about the request."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(NotificationRecord).where(NotificationRecord.subject == f"request:{request_id}")
            )
            return {(row.person, row.reason) for row in rows}


class Browser:
    """A person's browser on TPP's pages: a cookie jar, the CSRF token, a software authenticator."""

    def __init__(self, url: str, person: str) -> None:
        self.url, self.person = url, person
        self.http = requests.Session()
        self.key = SoftAuthenticator()
        self.device: int | None = None  # the enrolled device's id

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=30, **kwargs)

    def csrf(self, path: str = "/+tpp/login") -> str:
        match = _CSRF.search(self.get(path).text)
        assert match is not None, "the page publishes no CSRF token"
        return match[1]

    def sign_in(self, password: str = PASSWORD) -> Browser:
        answer = self.http.post(
            self.url + "/+tpp/login",
            data={"username": self.person, "password": password, "csrf_token": self.csrf()},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 303, answer.text
        return self

    def confirm(self) -> Browser:
        """Complete the sign-in with the enrolled device, as the confirmation page does."""
        begun = self.post_json("/+tpp/confirm/begin", {})
        assert begun.status_code == 200, begun.text
        assertion = self.key.get(json.loads(begun.json()["options"]), self.url)
        ceremony = {"id": begun.json()["id"], "credential": json.dumps(assertion)}
        answer = self.post_json("/+tpp/confirm/finish", {"ceremony": ceremony})
        assert answer.status_code == 200, answer.text
        return self

    def post_json(self, path: str, body: Any) -> requests.Response:
        headers = {"Accept": "application/json", "X-CSRF-Token": self.csrf("/+tpp/devices")}
        return self.http.post(self.url + path, json=body, headers=headers, timeout=30)

    def enrol(self) -> int:
        """Enrol the authenticator as the person's first device, as devices.js does; returns its id."""
        begun = self.post_json("/+tpp/devices/begin", {}).json()
        created = self.key.create(json.loads(begun["registration"]["options"]), self.url)
        registration = {"id": begun["registration"]["id"], "credential": json.dumps(created)}
        answer = self.post_json("/+tpp/devices/finish", {"name": "phone", "registration": registration, "vouch": None})
        assert answer.status_code == 200, answer.text
        self.device = int(answer.json()["device"]["id"])
        return self.device

    def decide(self, request_id: str, verdict: str, reason: str = "") -> requests.Response:
        """Begin the ceremony, sign with the authenticator, and send the decision, as request.js does."""
        begun = self.post_json(f"/+tpp/requests/{request_id}/begin", {"verdict": verdict})
        assert begun.status_code == 200, begun.text
        ceremony = begun.json()
        assertion = self.key.get(json.loads(ceremony["options"]), self.url)
        body = {"verdict": verdict, "ceremony": {"id": ceremony["id"], "credential": json.dumps(assertion)}}
        return self.post_json(f"/+tpp/requests/{request_id}/decide", {**body, "reason": reason})


def assert_hidden(server: DevpiServer, path: Path, project: str, version: str, tmp: Path) -> None:
    """Nothing of the release reaches an installer or a client of devpi's API."""
    download = server.pip("download", "-d", str(tmp / "dl"), f"{project}=={version}", index="alice/rel")
    assert download.returncode != 0, download.stdout
    assert not (tmp / "dl" / path.name).exists()
    for accept in ("text/html", "application/vnd.pypi.simple.v1+json"):
        page = requests.get(f"{server.url}/alice/rel/+simple/{project}/", headers={"Accept": accept}, timeout=10)
        assert path.name not in page.text, accept
        listing = requests.get(f"{server.url}/alice/rel/+simple/", headers={"Accept": accept}, timeout=10)
        assert f">{project}<" not in listing.text, accept
        assert f'"{project}"' not in listing.text, accept
    file_url = server.file_url("alice", "rel", path)
    assert requests.get(file_url, timeout=10).status_code == 403
    assert requests.get(file_url + ".metadata", timeout=10).status_code == 403
    assert requests.get(file_url, auth=("root", PASSWORD), timeout=10).status_code == 403  # root too
    # what nginx asks before serving +files from disk (auth_request)
    authcheck = {"X-Original-URI": file_url.removeprefix(server.url)}
    assert requests.get(f"{server.url}/+authcheck", headers=authcheck, timeout=10).status_code == 403
    for leak in (f"/alice/rel/{project}?ignore_bases", f"/alice/rel/{project}/{version}", f"/alice/rel/{project}"):
        answer = server.api("GET", leak)
        assert path.name not in answer.text, (leak, answer.text)
        assert version not in answer.json().get("result", {}), (leak, answer.text)


def wheel(directory: Path, name: str, version: str, metadata: str = "", tag: str = "py3-none-any") -> Path:
    """A minimal, installable pure-Python wheel of ``name`` ``version`` with one module; ``metadata``
    adds lines to its METADATA (``"Requires-Python: >=3.8\\n"``), which twine also sends as form fields."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}.py": f"VERSION = {version!r}\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{metadata}",
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: tpp-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
        f"{len(text.encode())}\n"
        for path, text in files.items()
    )
    files[f"{dist_info}/RECORD"] = record + f"{dist_info}/RECORD,,\n"
    path = directory / f"{module}-{version}-{tag}.whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    path.write_bytes(buffer.getvalue())
    return path
