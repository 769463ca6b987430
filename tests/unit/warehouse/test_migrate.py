"""Migrations build exactly the models' schema, on TPP's own version table, on SQLite and PostgreSQL,
and carry earlier rows over."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, insert, inspect

from tpp_warehouse import models  # noqa: F401  (registers the tables)
from tpp_warehouse.db import make_engine, metadata
from tpp_warehouse.migrate import VERSION_TABLE, alembic_config, current_revision, head_revision, upgrade


def test_upgrade_builds_the_models_schema(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            differences = compare_metadata(context, metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert differences == []
    assert tables == set(metadata.tables) | {VERSION_TABLE}


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()


def test_host_tables_and_version_table_are_left_alone(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
            connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('host-head')")
        upgrade(database_url)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "host-head"
    finally:
        engine.dispose()


def test_0005_keeps_each_decisions_device_name_as_it_is_now_and_none_for_a_removed_device(database_url: str) -> None:
    upgrade(database_url, "0004")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            _seed_0004(connection)
        upgrade(database_url)
        with engine.connect() as connection:
            names = connection.exec_driver_sql("SELECT id, device_name FROM tpp_decisions ORDER BY id").all()
            indexes = connection.exec_driver_sql("SELECT index_name FROM tpp_requests").scalars().all()
        assert names == [(1, "laptop"), (2, None), (3, None)]
        assert indexes == [None]
        command.downgrade(alembic_config(database_url), "0004")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("tpp_decisions")}
        assert "device_name" not in columns
        assert current_revision(database_url) == "0004"
    finally:
        engine.dispose()


def _seed_0004(connection: Connection) -> None:
    """A request decided by ann's laptop (still enrolled), by bob's removed device, and by a
    credential of ann's that another person's device happens to share (names are per person)."""
    at = datetime(2026, 12, 1, tzinfo=UTC)
    metadata = MetaData()
    devices, policies, requests, decisions = (
        Table(name, metadata, autoload_with=connection)
        for name in ("tpp_devices", "tpp_policies", "tpp_requests", "tpp_decisions")
    )
    device = {"sign_count": 0, "enrolled_at": at, "enrolment": "bootstrap", "public_key": b"k"}
    connection.execute(
        insert(devices),
        [
            {"person": "ann", "name": "laptop", "credential_id": b"ann", **device},
            {"person": "cy", "name": "cy's key", "credential_id": b"shared", **device},
        ],
    )
    document = {"scope": {"kind": "project", "value": "acme"}, "version": 1, "groups": []}
    connection.execute(
        insert(policies),
        {
            "scope_kind": "project",
            "scope_value": "acme",
            "version": 1,
            "document": document,
            "created_at": at,
            "created_by": "ann",
            "approved_by_request": None,
        },
    )
    connection.execute(
        insert(requests),
        {
            "id": "r1",
            "kind": "release",
            "registry_name": "https://registry.example",
            "project": "acme",
            "version": "1.0",
            "proposed": None,
            "uploader": "ci",
            "policy_id": 1,
            "state": "verifying",
            "opened_at": at,
            "expires_at": at,
        },
    )
    decision = {
        "request_id": "r1",
        "verdict": "approve",
        "at": at,
        "public_key": b"k",
        "manifest": b"m",
        "challenge": b"c",
        "client_data_json": b"{}",
        "authenticator_data": b"a",
        "signature": b"s",
        "withdrawn": False,
    }
    connection.execute(
        insert(decisions),
        [
            {"id": 1, "person": "ann", "credential_id": b"ann", **decision},
            {"id": 2, "person": "bob", "credential_id": b"bob", **decision},
            {"id": 3, "person": "ann", "credential_id": b"shared", **decision},
        ],
    )
