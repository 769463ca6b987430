"""Test databases on each backend: TPP's migrations run once per test run (once per xdist worker)
into a template, and every test starts from a copy of it.

A *slot* is one database URL that stays the same while its content is restored before each test, so
an app built once per module on that URL sees a fresh, migrated database in every test. On SQLite
restoring copies the template's file; on PostgreSQL the slot's database is made once with ``CREATE
DATABASE … TEMPLATE`` and restoring empties its tables and restarts its sequences (the migrations
insert no rows, and tests that change the schema take an empty database instead)::

    databases = SQLiteDatabases(tmp_path_factory.mktemp("sqlite"))
    slot = databases.slot()
    slot.restore()                      # the newest schema and no rows, at slot.url
    for url in databases.empty(): ...   # an unmigrated database, for the migrations' own tests
    for url in databases.prepared(make_host): ...  # a copy of what make_host(url) built once

The migrations' own tests take an empty database and still run the alembic chain. A host with
tables of its own (the Warehouse-shaped host) is built once per run and worker by ``prepared``'s
function, and each test gets a copy of it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psycopg
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import make_url

from tpp_warehouse.db import make_engine
from tpp_warehouse.migrate import VERSION_TABLE, upgrade

__all__ = ["Databases", "PostgreSQLDatabases", "SQLiteDatabases", "Slot"]


class Slot(Protocol):
    """One database URL whose content :meth:`restore` resets to the migrated template."""

    url: str

    def restore(self) -> None:
        """Replace the database at :attr:`url` by a copy of the template (close its connections first)."""


class Databases(Protocol):
    """Where a backend's test databases come from."""

    def empty(self) -> Iterator[str]:
        """The URL of a new database without any table, removed afterwards."""

    def slot(self) -> Slot:
        """A new slot; its database exists (migrated) once :meth:`Slot.restore` ran."""

    def prepared(self, prepare: Callable[[str], None]) -> Iterator[str]:
        """The URL of a new copy of the database ``prepare(url)`` built (once per ``prepare``, which
        closes its connections), removed afterwards."""

    def close(self) -> None:
        """Remove every database made here."""


@dataclass
class _SQLiteSlot:
    path: Path
    template: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def restore(self) -> None:
        # Write beside, then rename: a connection a test left open keeps the old file, never a torn one.
        # A write-ahead log left from the old file would be replayed into the new one: remove it.
        staging = self.path.with_name(self.path.name + ".new")
        staging.write_bytes(self.template.read_bytes())
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        os.replace(staging, self.path)


class SQLiteDatabases:
    """SQLite files under one directory, copied from a template migrated at first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._template: Path | None = None
        self._prepared: dict[Callable[[str], None], Path] = {}

    def _fresh_path(self) -> Path:
        return self.directory / f"tpp-{secrets.token_hex(6)}.sqlite"

    def template(self) -> Path:
        """The migrated template file."""
        if self._template is None:
            self._template = self._build(upgrade)
        return self._template

    def _build(self, prepare: Callable[[str], None]) -> Path:
        """A template file of what ``prepare`` built (``VACUUM INTO`` makes it one self-contained
        file, log included)."""
        built, template = self._fresh_path(), self._fresh_path()
        prepare(f"sqlite:///{built}")
        with sqlite3.connect(built) as connection:
            connection.execute("VACUUM INTO ?", (str(template),))
        connection.close()
        return template

    def empty(self) -> Iterator[str]:
        path = self._fresh_path()
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def prepared(self, prepare: Callable[[str], None]) -> Iterator[str]:
        if prepare not in self._prepared:
            self._prepared[prepare] = self._build(prepare)
        for url in self.empty():
            Path(url.removeprefix("sqlite:///")).write_bytes(self._prepared[prepare].read_bytes())
            yield url

    def slot(self) -> _SQLiteSlot:
        return _SQLiteSlot(self._fresh_path(), self.template())

    def close(self) -> None:
        """Nothing to do: the files live in pytest's temporary directory."""


class _PostgreSQLSlot:
    """A database made from the template once; restoring it empties its tables and restarts its
    sequences, which takes milliseconds where dropping and copying a database takes up to seconds
    on a busy server (both need a checkpoint's worth of writes)."""

    def __init__(self, databases: PostgreSQLDatabases, name: str) -> None:
        self.databases, self.name = databases, name
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def url(self) -> str:
        return self.databases.url(self.name)

    def restore(self) -> None:
        if self._connection is None:
            self.databases.create(self.name, template=self.databases.template())
            self._connection = psycopg.connect(self.databases.server_url(self.name), autocommit=True)
            return
        # A connection a test left open could hold locks the deletes would wait for: end it.
        self._connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        )
        tables, sequences = self.databases.contents()
        with self._connection.transaction():
            for table in tables:
                self._connection.execute(f'DELETE FROM "{table}"')
            for sequence in sequences:
                self._connection.execute("SELECT setval(%s, 1, false)", (f'"{sequence}"',))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self.databases.drop(self.name)


class PostgreSQLDatabases:
    """Databases on one PostgreSQL server, named ``tpp_test_<random>`` so that concurrent runs (and
    xdist workers) never meet; the template is migrated at first use."""

    def __init__(self, admin: psycopg.Connection[tuple[object, ...]], admin_url: str) -> None:
        self.admin = admin  # autocommit: CREATE and DROP DATABASE refuse to run in a transaction
        self.admin_url = admin_url
        self.prefix = f"tpp_test_{secrets.token_hex(4)}"
        self._made: set[str] = set()
        self._slots: list[_PostgreSQLSlot] = []
        self._template: str | None = None
        self._prepared: dict[Callable[[str], None], str] = {}
        self._contents: tuple[list[str], list[str]] | None = None

    def url(self, name: str) -> str:
        """SQLAlchemy's URL of database ``name``."""
        return make_url(self.server_url(name)).set(drivername="postgresql+psycopg").render_as_string(False)

    def server_url(self, name: str) -> str:
        """libpq's URL of database ``name``."""
        return make_url(self.admin_url).set(database=name).render_as_string(False)

    def create(self, name: str, template: str | None = None) -> None:
        copy = "" if template is None else f' TEMPLATE "{template}"'
        self.admin.execute(f'CREATE DATABASE "{name}"{copy}')
        self._made.add(name)

    def drop(self, name: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._made.discard(name)

    def _fresh_name(self) -> str:
        return f"{self.prefix}_{secrets.token_hex(4)}"

    def template(self) -> str:
        """The migrated template (no connection stays open to it: PostgreSQL copies only idle ones)."""
        if self._template is None:
            self._template = self._build(upgrade)
        return self._template

    def _build(self, prepare: Callable[[str], None]) -> str:
        name = self._fresh_name()
        self.create(name)
        prepare(self.url(name))
        return name

    def contents(self) -> tuple[list[str], list[str]]:
        """The template's tables, dependents first (TPP's version table left out), and its sequences."""
        if self._contents is None:
            engine = make_engine(self.url(self.template()))
            try:
                schema = MetaData()
                schema.reflect(engine)
                with engine.connect() as connection:
                    sequences = list(inspect(connection).get_sequence_names())
            finally:
                engine.dispose()
            tables = [table.name for table in reversed(schema.sorted_tables) if table.name != VERSION_TABLE]
            self._contents = (tables, sequences)
        return self._contents

    def empty(self) -> Iterator[str]:
        yield from self._copy(None)

    def prepared(self, prepare: Callable[[str], None]) -> Iterator[str]:
        if prepare not in self._prepared:
            self._prepared[prepare] = self._build(prepare)
        yield from self._copy(self._prepared[prepare])

    def _copy(self, template: str | None) -> Iterator[str]:
        name = self._fresh_name()
        self.create(name, template=template)
        yield self.url(name)
        self.drop(name)

    def slot(self) -> _PostgreSQLSlot:
        slot = _PostgreSQLSlot(self, self._fresh_name())
        self._slots.append(slot)
        return slot

    def close(self) -> None:
        for slot in self._slots:
            slot.close()
        for name in sorted(self._made):
            self.drop(name)
        self.admin.close()
