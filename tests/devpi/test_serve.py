"""``tpp serve``, the main job: the first run prepares everything and prints root's password once;
every run serves devpi with the plugin on localhost and says what to do next."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, free_port
from tests.common.services import require
from tests.common.tpp_serve import start, stop
from tpp_devpi import serve
from tpp_devpi.serve import executable

pytestmark = pytest.mark.service


def run(serverdir: Path, port: int, *options: str) -> tuple[subprocess.Popen[str], str]:
    """Start the tree's ``tpp serve`` and return it with what it printed before devpi answered."""
    return start([sys.executable, "-m", "tpp_warehouse.cli"], serverdir, port, *options)


def test_the_first_run_prepares_a_registry_and_later_runs_reuse_it(tmp_path: Path) -> None:
    require("devpi-server", lambda: executable("devpi-server"))
    serverdir, port = tmp_path / "tpp-registry", free_port()
    process, banner = run(serverdir, port)
    try:
        url = f"http://localhost:{port}"
        password = banner.split("root's password (shown this once): ")[1].split()[0]
        assert f"approval pages: {url}/+tpp/requests" in banner
        assert f"twine upload --repository-url {url}/alice/rel/ -u alice dist/*" in banner
        assert "A new device may approve 24 hours after it is added (the cooldown)" in banner
        assert "run tpp serve --try-out" in banner
        assert "tpp" in requests.get(f"{url}/+api", headers={"Accept": "application/json"}, timeout=5).text
        for prepared in ("tpp.sqlite", "tpp-vapid.pem", "tpp-secret"):
            assert (serverdir / prepared).exists(), prepared
        Browser(url, "root").sign_in(password)
    finally:
        stop(process)

    process, banner = run(serverdir, port)
    try:
        assert "shown this once" not in banner
        assert "root's password was shown on the first run" in banner
    finally:
        stop(process)


def test_trying_it_out_lets_a_new_device_approve_at_once(tmp_path: Path) -> None:
    require("devpi-server", lambda: executable("devpi-server"))
    port = free_port()
    process, banner = run(tmp_path / "tpp-registry", port, "--try-out")
    try:
        url = f"http://localhost:{port}"
        assert "TRYING OUT: new devices may approve at once (no cooldown)" in banner
        password = banner.split("root's password (shown this once): ")[1].split()[0]
        created = requests.put(
            f"{url}/alice", json={"password": PASSWORD, "email": "a@example.org"}, auth=("root", password), timeout=10
        )
        assert created.status_code == 201, created.text
        alice = Browser(url, "alice").sign_in()
        alice.enrol()
        row = re.search(r'<tr data-device="\d+">(.*?)</tr>', alice.get("/+tpp/devices").text, re.S)
        assert row is not None
        assert "<td>yes</td>" in row[1]  # may approve now
    finally:
        stop(process)


def test_the_help_names_the_plugins_devpi_options() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "tpp_warehouse.cli", "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--try-out", "--tpp-device-cooldown DURATION", "--tpp-origin ORIGIN", "--tpp-vapid-private-key"):
        assert option in shown


def test_a_directory_of_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    answer = subprocess.run(
        [sys.executable, "-m", "tpp_warehouse.cli", "serve", "--serverdir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 1
    assert answer.stderr == f"tpp: error: {tmp_path} is not empty and holds no devpi server\n"


def test_a_password_that_looks_like_an_option_is_still_root_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated password may start with "-"; devpi-init must not read it as an option."""
    require("devpi-init", lambda: executable("devpi-init"))
    monkeypatch.setattr("tpp_devpi.serve.secrets.token_urlsafe", lambda n: "-looks-like-an-option")
    assert serve._prepare(tmp_path / "tpp-registry") == "-looks-like-an-option"
    assert (tmp_path / "tpp-registry" / "tpp-secret").stat().st_mode & 0o777 == 0o600
