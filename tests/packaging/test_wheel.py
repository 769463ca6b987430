"""``pip install tpp`` from the wheel: the sdist and the wheel hold every file the product reads from
its packages (templates, static files, migrations, py.typed), and an installed wheel migrates a
database, renders every page, runs ``tpp serve``'s first start and works with the versions
Warehouse pins. Every other test runs from the tree, so only these see the wheel.

The venv installs the oldest versions TPP supports where Warehouse pins them (``requirements/main.txt``
of pypi/warehouse: webauthn 2.8.0 and cbor2 5.9.0 today, SQLAlchemy 2.0.30 of its 2024 pins, which
could not map TPP's models); every other test runs with the newest, so both ends are tried."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.common.devpi import Browser, free_port
from tests.common.tpp_serve import start, stop
from tests.packaging.venvs import (
    PYTEST_REQUIREMENTS,
    Built,
    Report,
    Venv,
    build,
    outside_tree,
    run,
    tree_files,
    wheel_files,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("build"))


#: Warehouse's pins that TPP's code touches (pypi/warehouse requirements/main.txt).
PINS = {"webauthn": "2.8.0", "cbor2": "5.9.0", "SQLAlchemy": "2.0.30", "cryptography": "50.0.0", "pyramid": "2.1"}
#: What the tests run in the venv need beside TPP: the Warehouse-shaped host's S3 and servers, twine.
TEST_REQUIREMENTS = (
    *PYTEST_REQUIREMENTS,
    "webtest",
    "beautifulsoup4",
    "moto[s3]",
    "flask",
    "flask-cors",
    "twine",
    "waitress",
)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One venv with ``tpp[devpi,s3]`` from the wheel and Warehouse's pins, for every test here (each
    pip install into a fresh venv takes a minute), checked to import TPP and devpi from itself,
    never from the tree."""
    venv = Venv(tmp_path_factory.mktemp("installed") / "venv")
    venv.pip_install(
        f"{built.wheel}[devpi,s3]", *(f"{name}=={version}" for name, version in PINS.items()), *TEST_REQUIREMENTS
    )
    for package, where in venv.where("tpp_core", "tpp_warehouse", "tpp_devpi", "devpi_server").items():
        assert where.is_relative_to(venv.path), f"{package} is not imported from {venv.path} but {where}"
    return venv


#: The tree's tests the venv runs, in one pytest process: every page (each view that answers GET,
#: the error page, every static file and the service worker) through the installed package, on
#: SQLite, the embedded default; the WebAuthn wrapper's tests and the Warehouse-shaped host's
#: (hiding, capture, quarantine, J2) with Warehouse's pins, on PostgreSQL, as Warehouse runs.
PAGES = ("tests/functional/test_every_page.py",)
PINNED = ("tests/unit/warehouse/test_webauthn.py", "tests/common/test_authenticator.py", "tests/warehouse")
BACKENDS = "(test_every_page and not postgresql) or (not test_every_page and not sqlite)"


@pytest.fixture(scope="module")
def venv_run(installed: Venv, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """What the venv's pytest said of :data:`PAGES` and :data:`PINNED`, each on its :data:`BACKENDS`."""
    return installed.pytest(tmp_path_factory.mktemp("run"), *PAGES, *PINNED, "-k", BACKENDS)


def test_the_wheel_holds_every_file_of_the_packages(built: Built) -> None:
    missing = tree_files() - wheel_files(built.wheel)
    assert not missing, f"not in the wheel (add them to [options.package_data] in setup.cfg): {sorted(missing)}"
    for kind in ("templates/tpp/request.jinja2", "static/sw.js", "migrations/versions/0001_initial_tables.py"):
        assert f"tpp_warehouse/{kind}" in wheel_files(built.wheel)


def test_the_sdist_builds_the_same_wheel(built: Built) -> None:
    assert wheel_files(built.wheel_from_sdist) == wheel_files(built.wheel)


@pytest.mark.service  # pip fetches the dependencies from the package index
def test_the_installed_wheel_migrates_and_renders_every_page(installed: Venv, venv_run: Report, tmp_path: Path) -> None:
    database = tmp_path / "tpp.sqlite"
    said = run(installed.path / "bin" / "tpp", "db", "upgrade", "--url", f"sqlite:///{database}", cwd=tmp_path)
    assert "upgraded from nothing to" in said, said
    venv_run.assert_passed(*PAGES)


@pytest.mark.service  # pip fetches the pinned versions from the package index
def test_tpp_works_with_warehouses_pins(installed: Venv, venv_run: Report) -> None:
    versions = installed.versions(*PINS)
    assert versions == PINS, f"the venv has {versions}, not Warehouse's {PINS}"
    venv_run.assert_passed(*PINNED)


@pytest.mark.service  # pip fetches devpi-server; the registry listens on loopback
def test_the_installed_wheel_serves_a_registry_on_its_first_start(installed: Venv, tmp_path: Path) -> None:
    serverdir, port = tmp_path / "tpp-registry", free_port()
    process, banner = start([installed.path / "bin" / "tpp"], serverdir, port, env=outside_tree(), cwd=tmp_path)
    try:
        # tpp serve became the venv's devpi-server (not one found on PATH, with the tree's plugin).
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert Path(command[1].decode()) == installed.path / "bin" / "devpi-server", command
        url = f"http://localhost:{port}"
        assert banner.startswith(f"TPP registry at {url} (devpi-server with the tpp plugin)\n"), banner
        assert f"approval pages: {url}/+tpp/requests" in banner
        password = banner.split("root's password (shown this once): ")[1].split()[0]
        for prepared in ("tpp.sqlite", "tpp-vapid.pem", "tpp-secret"):  # the installed migrations ran
            assert (serverdir / prepared).exists(), prepared
        features = requests.get(f"{url}/+api", headers={"Accept": "application/json"}, timeout=10).json()
        assert "tpp" in features["result"]["features"], features
        # The sign-in page and the style sheet come from the installed package's files.
        root = Browser(url, "root")
        page = root.get("/+tpp/login")
        assert page.status_code == 200, page.text
        assert '<form method="post" action="/+tpp/login" id="login">' in page.text
        sheet = root.get("/+tpp/static/tpp.css")
        assert sheet.status_code == 200, sheet.text
        assert (
            sheet.content
            == (installed.where("tpp_warehouse")["tpp_warehouse"].parent / "static" / "tpp.css").read_bytes()
        )
        root.sign_in(password)  # the password printed once is root's
    finally:
        stop(process)
