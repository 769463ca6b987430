"""Running TPP's migrations: ``tpp db upgrade``, or :func:`upgrade` from code.

TPP keeps its own alembic chain and version table, so it never touches the host's migrations.

Usage::

    upgrade("postgresql+psycopg://registry@db/registry")
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import make_engine

__all__ = ["VERSION_TABLE", "alembic_config", "current_revision", "head_revision", "upgrade"]

#: TPP's alembic version table; the host's ``alembic_version`` is left alone.
VERSION_TABLE = "tpp_alembic_version"


def alembic_config(url: str) -> Config:
    """An alembic configuration for TPP's migrations against ``url``."""
    config = Config()
    config.set_main_option("script_location", "tpp_warehouse:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``; safe to run again."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest migration this version of TPP ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "TPP ships at least one migration"
    return head


def current_revision(url: str) -> str | None:
    """The migration the database at ``url`` is at, or None if TPP's tables were never created."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()
