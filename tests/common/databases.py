"""Test databases on each backend: TPP's migrations run once per test run (once per xdist worker)
into a template, and every test starts from a copy of it.

A *slot* is one database URL that stays the same while its content is restored before each test, so
an app built once per module on that URL sees a fresh database in every test. A template is what a
*prepare* function built once per run and worker: TPP's migrations (the default), or the
Warehouse-shaped host's tables and people with TPP's. On SQLite restoring copies the template's
file; on PostgreSQL the slot's database is made once with ``CREATE DATABASE … TEMPLATE`` and
restoring empties its tables and writes the template's rows and sequence positions back (tests that
change the schema take an empty database instead)::

    databases = SQLiteDatabases(tmp_path_factory.mktemp("sqlite"))
    slot = databases.slot()
    slot.restore()                      # the newest schema and no rows, at slot.url
    host = databases.slot(make_host)
    host.restore()                      # what make_host(url) built once, at host.url
    for url in databases.empty(): ...   # an unmigrated database, for the migrations' own tests

The migrations' own tests take an empty database and still run the alembic chain.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import make_url

from tpp_warehouse.db import make_engine
from tpp_warehouse.migrate import VERSION_TABLE, upgrade

__all__ = ["Databases", "PostgreSQLDatabases", "SQLiteDatabases", "Slot"]


class Slot(Protocol):
    """One database URL whose content :meth:`restore` resets to the migrated template."""

    @property
    def url(self) -> str:
        """SQLAlchemy's URL of the slot's database."""

    def restore(self) -> None:
        """Replace the database at :attr:`url` by a copy of the template (close its connections first)."""


#: What a template is built by: a function of an empty database's URL that closes its connections.
Prepare = Callable[[str], None]


class Databases(Protocol):
    """Where a backend's test databases come from."""

    def empty(self) -> Iterator[str]:
        """The URL of a new database without any table, removed afterwards."""

    def slot(self, prepare: Prepare = upgrade) -> Slot:
        """A new slot; its database holds what ``prepare`` built (TPP's newest schema, no rows, by
        default) once :meth:`Slot.restore` ran."""

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
        self._templates: dict[Prepare, Path] = {}

    def _fresh_path(self) -> Path:
        return self.directory / f"tpp-{secrets.token_hex(6)}.sqlite"

    def template(self, prepare: Prepare = upgrade) -> Path:
        """A template file of what ``prepare`` built, at its first use (``VACUUM INTO`` makes it one
        self-contained file, log included)."""
        if prepare not in self._templates:
            built, template = self._fresh_path(), self._fresh_path()
            prepare(f"sqlite:///{built}")
            with sqlite3.connect(built) as connection:
                connection.execute("VACUUM INTO ?", (str(template),))
            connection.close()
            self._templates[prepare] = template
        return self._templates[prepare]

    def empty(self) -> Iterator[str]:
        path = self._fresh_path()
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def slot(self, prepare: Prepare = upgrade) -> _SQLiteSlot:
        return _SQLiteSlot(self._fresh_path(), self.template(prepare))

    def close(self) -> None:
        """Nothing to do: the files live in pytest's temporary directory."""


def _row(cursor: psycopg.Cursor[tuple[Any, ...]], query: str) -> tuple[Any, ...]:
    """The one row ``query`` selects."""
    row = cursor.execute(query).fetchone()
    assert row is not None, query
    return row


@dataclass(frozen=True)
class _Contents:
    """What a PostgreSQL template holds, to write back into a slot: its tables, dependents first
    (TPP's version table left out: the schema never changes), each table's rows as a binary COPY,
    and each sequence's position."""

    tables: list[str]
    rows: dict[str, bytes]
    sequences: dict[str, tuple[int, bool]]


class _PostgreSQLSlot:
    """A database made from the template once; restoring it empties its tables and writes the
    template's rows and sequence positions back, which takes milliseconds where dropping and copying
    a database takes up to seconds on a busy server (both need a checkpoint's worth of writes)."""

    def __init__(self, databases: PostgreSQLDatabases, name: str, template: str) -> None:
        self.databases, self.name, self.template = databases, name, template
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def url(self) -> str:
        return self.databases.url(self.name)

    def restore(self) -> None:
        if self._connection is None:
            self.databases.create(self.name, template=self.template)
            self._connection = psycopg.connect(self.databases.server_url(self.name), autocommit=True)
            return
        # A connection a test left open could hold locks the deletes would wait for: end it.
        self._connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        )
        contents = self.databases.contents(self.template)
        with self._connection.transaction(), self._connection.cursor() as cursor:
            for table in contents.tables:
                cursor.execute(f'DELETE FROM "{table}"')
            for table in reversed(contents.tables):  # referenced rows first
                if table in contents.rows:
                    with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                        copy.write(contents.rows[table])
            for sequence, (value, called) in contents.sequences.items():
                cursor.execute("SELECT setval(%s, %s, %s)", (f'"{sequence}"', value, called))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self.databases.drop(self.name)


class PostgreSQLDatabases:
    """Databases on one PostgreSQL server, named ``tpp_test_<random>`` so that concurrent runs (and
    xdist workers) never meet; each template is built at its first use."""

    def __init__(self, admin: psycopg.Connection[tuple[object, ...]], admin_url: str) -> None:
        self.admin = admin  # autocommit: CREATE and DROP DATABASE refuse to run in a transaction
        self.admin_url = admin_url
        self.prefix = f"tpp_test_{secrets.token_hex(4)}"
        self._made: set[str] = set()
        self._slots: list[_PostgreSQLSlot] = []
        self._templates: dict[Prepare, str] = {}
        self._contents: dict[str, _Contents] = {}

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

    def template(self, prepare: Prepare = upgrade) -> str:
        """The database ``prepare`` built, at its first use (no connection stays open to it:
        PostgreSQL copies only idle ones)."""
        if prepare not in self._templates:
            name = self._fresh_name()
            self.create(name)
            prepare(self.url(name))
            self._templates[prepare] = name
        return self._templates[prepare]

    def contents(self, template: str) -> _Contents:
        """What ``template`` holds, read at the first restore of a slot made from it."""
        if template not in self._contents:
            engine = make_engine(self.url(template))
            try:
                schema = MetaData()
                schema.reflect(engine)
                with engine.connect() as connection:
                    sequences = list(inspect(connection).get_sequence_names())
            finally:
                engine.dispose()
            tables = [table.name for table in reversed(schema.sorted_tables) if table.name != VERSION_TABLE]
            rows, positions = {}, {}
            with psycopg.connect(self.server_url(template)) as raw, raw.cursor() as cursor:
                for table in tables:
                    if _row(cursor, f'SELECT EXISTS (SELECT FROM "{table}")') == (True,):
                        with cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                            rows[table] = b"".join(copy)
                for sequence in sequences:
                    value, called = _row(cursor, f'SELECT last_value, is_called FROM "{sequence}"')
                    positions[sequence] = (value, called)
            self._contents[template] = _Contents(tables, rows, positions)
        return self._contents[template]

    def empty(self) -> Iterator[str]:
        name = self._fresh_name()
        self.create(name)
        yield self.url(name)
        self.drop(name)

    def slot(self, prepare: Prepare = upgrade) -> _PostgreSQLSlot:
        slot = _PostgreSQLSlot(self, self._fresh_name(), self.template(prepare))
        self._slots.append(slot)
        return slot

    def close(self) -> None:
        for slot in self._slots:
            slot.close()
        for name in sorted(self._made):
            self.drop(name)
        self.admin.close()
