"""Alembic environment for TPP's tables only: own MetaData, own version table."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tpp_warehouse import models  # noqa: F401  (registers the tables on the metadata)
from tpp_warehouse.db import make_engine, metadata
from tpp_warehouse.migrate import VERSION_TABLE

config = context.config
connection = config.attributes.get("connection")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as fresh:
            _run(fresh)
            fresh.commit()
    finally:
        engine.dispose()
