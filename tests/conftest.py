"""Shared fixtures: a database on each backend TPP supports, copied from one migrated template per
run (per xdist worker); hypothesis profiles; how xdist groups the tests."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from tests.common.databases import Databases, PostgreSQLDatabases, Slot, SQLiteDatabases
from tests.common.properties import load_profile
from tests.common.scheduling import group_and_order, workers
from tests.common.services import POSTGRESQL_URL, require
from tpp_warehouse.db import make_engine

pytest_plugins = ("tests.common.coverage_scope",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="let the browser tests write the owner's guide's screenshots (docs/_static/screenshots)",
    )


def pytest_configure(config: pytest.Config) -> None:
    load_profile(config)
    # Python's default, whatever PYTHONDONTWRITEBYTECODE says (this project's machines set it): with
    # it, each of the run's ~50 devpi-server, devpi and tpp processes compiled TPP's modules again
    # (a sixth of a start), and each xdist worker rewrote every test module's asserts again.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports and the collection made lives to the end of the run: frozen out of the
    garbage collector's way, with young objects collected less often. Each full collection walked
    every module, app and mapper loaded, and garbage collection took a sixth of the functional and
    service tests' time (6.6 s of 37 s on SQLite; 2.7 s so)."""
    gc.freeze()
    gc.set_threshold(5000, 20, 100)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return workers()


# Before xdist's own hook, which turns the groups into the node ids' "@group" (the scheduler groups
# by those alone), and after a folder's conftest put its own tests in groups: conftests register
# from the root down, and pluggy calls the last registered first among tryfirst hooks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_and_order(items)


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SQLiteDatabases:
    """SQLite files copied from one template this worker migrates at first use."""
    return SQLiteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgresql_databases() -> Iterator[PostgreSQLDatabases]:
    """Databases on 127.0.0.1:5432 (or ``TPP_TEST_POSTGRESQL``) copied from this worker's template."""
    admin = require("PostgreSQL", lambda: psycopg.connect(POSTGRESQL_URL, autocommit=True, connect_timeout=5))
    databases = PostgreSQLDatabases(admin, POSTGRESQL_URL)
    yield databases
    databases.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)])
def backend(request: pytest.FixtureRequest) -> Databases:
    """The databases of one backend: SQLite (the embedded default) or PostgreSQL."""
    databases: Databases = request.getfixturevalue(f"{request.param}_databases")
    return databases


@pytest.fixture
def database_url(backend: Databases) -> Iterator[str]:
    """An empty database (no table at all), for what must run the migrations itself."""
    yield from backend.empty()


@pytest.fixture(scope="module")
def migrated_database(backend: Databases) -> Slot:
    """The module's database URL: an app built once per module is built on it; every test that takes
    ``engine`` finds it freshly copied from the migrated template."""
    slot = backend.slot()
    slot.restore()
    return slot


def _engine_on(slot: Slot) -> Iterator[Engine]:
    slot.restore()
    engine = make_engine(slot.url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_database: Slot) -> Iterator[Engine]:
    """An engine on a database at TPP's newest schema and without rows, on each backend."""
    yield from _engine_on(migrated_database)


@pytest.fixture
def postgresql_engine(postgresql_databases: PostgreSQLDatabases) -> Iterator[Engine]:
    """The same on PostgreSQL only, for behaviour SQLite does not have (concurrent writers)."""
    slot = postgresql_databases.slot()
    yield from _engine_on(slot)
    slot.close()
