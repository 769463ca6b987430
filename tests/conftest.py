"""Shared fixtures: a fresh database on each backend TPP supports."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.common.services import POSTGRESQL_URL, require
from tpp_warehouse.db import make_engine
from tpp_warehouse.migrate import upgrade


def _postgresql_database() -> Iterator[str]:
    admin = require("PostgreSQL", lambda: psycopg.connect(POSTGRESQL_URL, autocommit=True, connect_timeout=5))
    name = f"tpp_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield (
                make_url(POSTGRESQL_URL)
                .set(drivername="postgresql+psycopg", database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.service)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file (the embedded default) or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tpp.sqlite'}"
    else:
        yield from _postgresql_database()


def _migrated(url: str) -> Iterator[Engine]:
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to TPP's newest schema, on each backend."""
    yield from _migrated(database_url)


@pytest.fixture
def postgresql_engine() -> Iterator[Engine]:
    """The same on PostgreSQL only, for behaviour SQLite does not have (concurrent writers)."""
    for url in _postgresql_database():
        yield from _migrated(url)
