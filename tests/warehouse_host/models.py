"""The host's tables, shaped like Warehouse's (``warehouse/packaging/models.py``,
``warehouse/accounts/models.py``) where TPP touches them: same class, table and column names.

Integer ids instead of Warehouse's UUIDs keep SQLite simple; TPP never relies on the id type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, ForeignKey, MetaData, String, UniqueConstraint, event, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship, sessionmaker

from tpp_core import canonicalize_project
from tpp_warehouse.db import UTCDateTime

#: Like ``warehouse.db.Session``: stateless; each request binds its own session.
Session = sessionmaker()


def _now() -> datetime:
    return datetime.now(UTC)


class Model(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012  (SQLAlchemy reads it from the class)


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)


class Project(Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    normalized_name: Mapped[str] = mapped_column(String(255), unique=True)
    created: Mapped[datetime] = mapped_column(default=_now)
    last_serial: Mapped[int] = mapped_column(default=0)

    releases: Mapped[list[Release]] = relationship(back_populates="project")


class Role(Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    role_name: Mapped[str] = mapped_column(String(20))  # "Owner" or "Maintainer"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))

    user: Mapped[User] = relationship()
    project: Mapped[Project] = relationship()


class Release(Model):
    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    version: Mapped[str] = mapped_column(String(128))
    canonical_version: Mapped[str] = mapped_column(String(128))
    created: Mapped[datetime] = mapped_column(default=_now)

    project: Mapped[Project] = relationship(back_populates="releases")
    files: Mapped[list[File]] = relationship(back_populates="release")

    __table_args__ = (UniqueConstraint("project_id", "canonical_version"),)


class File(Model):
    __tablename__ = "release_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    filename: Mapped[str] = mapped_column(String(255), unique=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    packagetype: Mapped[str] = mapped_column(String(20))
    python_version: Mapped[str] = mapped_column(String(20))
    size: Mapped[int]
    md5_digest: Mapped[str] = mapped_column(String(32))
    sha256_digest: Mapped[str] = mapped_column(String(64))
    blake2_256_digest: Mapped[str] = mapped_column(String(64))
    metadata_file_sha256_digest: Mapped[str | None] = mapped_column(String(64))
    upload_time: Mapped[datetime] = mapped_column(default=_now)

    release: Mapped[Release] = relationship(back_populates="files")

    @property
    def metadata_path(self) -> str:
        return self.path + ".metadata"


class JournalEntry(Model):
    __tablename__ = "journals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(255))
    submitted_date: Mapped[datetime] = mapped_column(default=_now)


@event.listens_for(Session, "before_flush")
def _defer_journals(session: Any, flush_context: Any, instances: Any) -> None:
    # Warehouse's ensure_monotonic_journals: journal entries flushed with other changes wait for a
    # flush of their own (where Warehouse takes its advisory lock), restored by the listener below.
    entries = [obj for obj in session.new if isinstance(obj, JournalEntry)]
    if entries and (session.dirty or any(not isinstance(obj, JournalEntry) for obj in session.new)):
        for entry in entries:
            session.expunge(entry)
        session.info.setdefault("_deferred_journals", []).extend(entries)


@event.listens_for(Session, "after_flush")
def _restore_deferred_journals(session: Any, flush_context: Any) -> None:
    for entry in session.info.pop("_deferred_journals", []):
        session.add(entry)


@event.listens_for(JournalEntry, "after_insert")
def _bump_serial(mapper: Mapper[Any], connection: Connection, entry: JournalEntry) -> None:
    # What Warehouse's maintain_project_last_serial() trigger does.
    connection.execute(
        update(Project)
        .where(Project.normalized_name == canonicalize_project(entry.name))
        .values(last_serial=entry.id)
        .execution_options(synchronize_session=False)
    )
