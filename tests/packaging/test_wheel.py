"""``pip install tpp`` from the wheel: the sdist and the wheel hold every file the product reads from
its packages (templates, static files, migrations, py.typed), and an installed wheel migrates a
database and renders every page. Every other test runs from the tree, so only these see the wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.venvs import Built, Venv, build, run, tree_files, wheel_files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("build"))


def test_the_wheel_holds_every_file_of_the_packages(built: Built) -> None:
    missing = tree_files() - wheel_files(built.wheel)
    assert not missing, f"not in the wheel (add them to [options.package_data] in setup.cfg): {sorted(missing)}"
    for kind in ("templates/tpp/request.jinja2", "static/sw.js", "migrations/versions/0001_initial_tables.py"):
        assert f"tpp_warehouse/{kind}" in wheel_files(built.wheel)


def test_the_sdist_builds_the_same_wheel(built: Built) -> None:
    assert wheel_files(built.wheel_from_sdist) == wheel_files(built.wheel)


@pytest.mark.service  # pip fetches the dependencies from the package index
def test_the_installed_wheel_migrates_and_renders_every_page(built: Built, tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv")
    venv.pip_install(
        f"{built.wheel}[warehouse]",
        "pytest",
        "webtest",
        "beautifulsoup4",
        "psycopg[binary]",
        "cbor2",
        "hypothesis",
        "pytest-xdist",
    )
    for package in ("tpp_core", "tpp_warehouse", "tpp_devpi"):
        assert venv.where(package).is_relative_to(venv.path), f"{package} is not imported from the venv"
    database = tmp_path / "tpp.sqlite"
    said = run(venv.path / "bin" / "tpp", "db", "upgrade", "--url", f"sqlite:///{database}", cwd=tmp_path)
    assert "upgraded from nothing to" in said, said
    # The functional tests render every page (devices, policies, approvals, invitations, audit,
    # status, errors, the service worker and static files) through the installed package.
    report = venv.pytest(tmp_path / "run", "tests/functional", "-q", "-k", "not postgresql")
    assert " passed" in report, report  # and none failed: run() asserts pytest's exit status
