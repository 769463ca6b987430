"""Migrations build exactly the models' schema, on TPP's own version table, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tpp_warehouse import models  # noqa: F401  (registers the tables)
from tpp_warehouse.db import make_engine, metadata
from tpp_warehouse.migrate import VERSION_TABLE, current_revision, head_revision, upgrade


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
