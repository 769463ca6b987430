"""Journey J2: the Warehouse-shaped host under waitress on loopback, its quarantine on moto's S3
server, real ``twine upload`` and ``pip``. Approvers sign in and decide through TPP's HTTP endpoints
(begin, sign with the software authenticator, decide): the approval over the served socket, the
rejection through WebTest on the same app object. The host's S3 keys join its prefix and the path
with nothing between, as Warehouse's do, so a promotion to another key would not install."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from webtest.http import StopableWSGIServer

from tests.warehouse.conftest import S3, TOKEN, World, basic, host_database, open_world, status_url_of
from tests.warehouse.dists import wheel
from tpp_core import Verdict

pytestmark = pytest.mark.service


class Served:
    """The world, served on http://localhost:<port>."""

    def __init__(self, world: World, server: StopableWSGIServer, s3: S3, tmp_path: Path) -> None:
        self.world, self.s3, self.tmp = world, s3, tmp_path
        self.url = f"http://localhost:{server.adj.port}"

    def twine(self, name: str, version: str) -> str:
        filename, data = wheel(name, version, module="def hello() -> str:\n    return 'hello'\n")
        dist = self.tmp / "dist" / filename
        dist.parent.mkdir(exist_ok=True)
        dist.write_bytes(data)
        done = self._run(
            "twine",
            "upload",
            "--verbose",
            "--disable-progress-bar",
            "--non-interactive",
            "--repository-url",
            f"{self.url}/legacy/",
            "-u",
            "__token__",
            "-p",
            TOKEN,
            str(dist),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        # twine --verbose logs the response body through rich: strip its colours and line wrapping.
        output = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).split())
        status_url = status_url_of(output)
        assert status_url == f"{self.url}/tpp/releases/{name}/{version}/status.json"
        # What CI does: poll it with the upload token; it redirects to the request's status JSON.
        status = requests.get(status_url, headers=basic(TOKEN), timeout=30)
        assert status.history[0].status_code == 303, status.history
        assert status.json()["state"] == "verifying"
        return str(status.json()["id"])

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run(
            "pip",
            *args,
            "--no-deps",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            f"{self.url}/simple/",
        )

    def _run(self, module: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "NO_COLOR": "1",
            "COLUMNS": "300",
        }
        return subprocess.run(
            [sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, timeout=120
        )


@pytest.fixture
def served(s3: S3, tmp_path: Path) -> Iterator[Served]:
    storage = {
        "bucket": "tpp-public",
        "files.prefix": "packages",  # Warehouse joins it to a path with nothing between; so must TPP
        "s3": s3.client,
        "tpp.quarantine.url": "s3://tpp-quarantine/held",
        "tpp.quarantine.public_url": "s3://tpp-public/packages",
        "tpp.quarantine.s3_endpoint_url": s3.endpoint,
    }
    database = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    host_database(database)
    for world in open_world(database, tmp_path, **storage):
        server = StopableWSGIServer.create(world.app.app, host="127.0.0.1")
        try:
            yield Served(world, server, s3, tmp_path)
        finally:
            server.shutdown()


def test_j2_upload_hidden_until_approved_then_installable(served: Served) -> None:
    served.world.gate("acme", "lead", "cora")
    request_id = served.twine("acme", "1.0")
    status = requests.get(f"{served.url}/tpp/requests/{request_id}/status.json", headers=basic(TOKEN), timeout=10)
    assert status.json()["state"] == "verifying"

    # pip can neither see nor fetch it; the bytes are only in the quarantine bucket.
    hidden = served.pip("download", "acme==1.0", "-d", str(served.tmp / "download"))
    assert hidden.returncode != 0
    assert "No matching distribution found for acme==1.0" in hidden.stderr
    (key,) = served.s3.keys("tpp-quarantine")[:1]
    assert served.s3.keys("tpp-public") == []
    path = key.removeprefix("held/")
    assert requests.get(f"{served.url}/packages/{path}", timeout=10).status_code == 404

    served.world.decide(request_id, "cora", url=served.url)  # over waitress's socket, as a browser does
    assert served.s3.keys("tpp-quarantine") == []
    installed = served.pip("install", "acme==1.0", "--target", str(served.tmp / "site"))
    assert installed.returncode == 0, installed.stderr
    assert "VERSION = '1.0'" in (served.tmp / "site" / "acme.py").read_text()


def test_j2_a_rejected_release_is_gone_from_s3_and_never_installable(served: Served) -> None:
    served.world.gate("acme", "lead", "cora")
    request_id = served.twine("acme", "2.0")
    assert len(served.s3.keys("tpp-quarantine")) == 2  # the wheel and its .metadata
    served.world.decide(request_id, "lead", Verdict.REJECT)
    assert served.s3.keys("tpp-quarantine") == served.s3.keys("tpp-public") == []
    refused = served.pip("download", "acme==2.0", "-d", str(served.tmp / "download"))
    assert refused.returncode != 0
    assert "No matching distribution found for acme==2.0" in refused.stderr
