"""TPP's own database layer: its own MetaData, naming convention and model base.

Keeping TPP's tables off the host's MetaData means a host's migration check (Warehouse runs
``alembic check`` in CI) never reports them, and TPP's migrations run on their own version table.

Usage::

    engine = make_engine("sqlite:///tpp.sqlite")
    with Session(engine) as session, session.begin():
        session.add(...)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import zope.sqlalchemy
from sqlalchemy import JSON, DateTime, Dialect, Engine, LargeBinary, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = [
    "NAMING_CONVENTION",
    "Model",
    "UTCDateTime",
    "includeme",
    "make_engine",
    "metadata",
    "on_session",
    "serialize",
]

T = TypeVar("T")

#: Constraint names that are stable across databases, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Model(DeclarativeBase):
    """Base of every TPP table."""

    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        bytes: LargeBinary(),
        dict[str, Any]: JSON(),
    }


def serialize(session: Session, name: str) -> None:
    """Make transactions that touch ``name`` (e.g. ``"audit"``, ``"person:ann"``) run one at a time.

    On PostgreSQL this takes a transaction-scoped advisory lock, released at commit or rollback, so a
    second writer waits and then sees what the first committed. SQLite already lets one writer in at
    a time, so there it does nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"tpp:{name}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys enforced and a wait instead of "database is locked"."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def on_session(store: Callable[[Session], T]) -> Callable[[object, Any], T]:
    """The pyramid_services factory of a store that is built from TPP's session alone."""

    def factory(context: object, request: Any) -> T:
        return store(request.tpp_db)

    return factory


def includeme(config: Any) -> None:
    """``request.tpp_db``: a session on TPP's own database, or the host's (``tpp.database_url`` unset).

    TPP's own session joins the request's transaction (pyramid_tm), so TPP's rows commit or roll
    back with the host's.
    """
    url = config.registry["tpp.settings"].database_url
    if url is None:
        config.add_request_method(lambda request: request.db, name="tpp_db", reify=True)
        return
    engine = config.registry["tpp.engine"] = make_engine(url)  # kept so its owner can dispose of it
    factory = sessionmaker(bind=engine)

    def tpp_db(request: Any) -> Session:
        session = factory()
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    config.add_request_method(tpp_db, name="tpp_db", reify=True)
