"""What a Warehouse-shaped host must keep from installers: held files and releases, and their states.

A row here is written by the host's own insert of the File (or Release), in the same transaction,
so a file of a gated project is never visible without one (invariant I1). The hiding criteria
(:mod:`.hiding`) hide every file and release that has a row; publishing removes the row only once
the bytes are in public storage.

States of a held file::

    held ──publish──> publishing ──bytes promoted──> (row deleted: visible)
      └───purge────> purging ────bytes deleted───> purged (hidden for good)

Usage::

    if is_gated(session, "acme"):                  # decided once per session, then cached
        hold_file(connection, file_row, at=now)    # from a mapper after_insert listener
    holds = Holds(session)
    holds.unopened("acme", "1.0")                  # the held files no request covers yet
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, delete, insert, select
from sqlalchemy.orm import Session

from tpp_core import InvalidTransition, ProjectName, ReleaseFile, canonicalize_project, select_policy
from tpp_warehouse.models import HeldFileRecord, HeldReleaseRecord
from tpp_warehouse.policies import PolicyStore

__all__ = ["HELD", "PUBLISHING", "PURGED", "PURGING", "HeldFile", "Holds", "hold_file", "hold_release", "is_gated"]

HELD, PUBLISHING, PURGING, PURGED = "held", "publishing", "purging", "purged"

#: ``session.info`` key of the per-session cache of gating decisions.
_GATED = "tpp.gated"


def is_gated(session: Session, project: str, connection: Connection | None = None) -> bool:
    """Whether a policy governs ``project``; decided once per session and then cached, so the
    storage (before the flush) and the File listener (during it) always agree.

    ``connection`` is the flush's connection when called from a mapper listener, where the session
    itself must not be queried.
    """
    cache: dict[str, bool] = session.info.setdefault(_GATED, {})
    name = canonicalize_project(project)
    if name not in cache:
        with Session(bind=connection if connection is not None else session.connection()) as reader:
            cache[name] = select_policy(PolicyStore(reader).policies(), ProjectName(name)) is not None
    return cache[name]


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldFile:
    """The facts of a host's File row that TPP keeps: what installers must not see yet."""

    filename: str
    sha256: str
    size: int
    path: str
    project: str  # the host's normalized name
    version: str
    uploader: str


def hold_file(connection: Connection, file: HeldFile, *, at: datetime) -> None:
    """Hold a file, in the transaction of ``connection`` (the flush that inserts the host's File)."""
    values = {name: getattr(file, name) for name in HeldFile.__dataclass_fields__}
    connection.execute(insert(HeldFileRecord).values(**values, held_at=at, state=HELD, request_id=None))


def hold_release(connection: Connection, project: str, version: str, *, at: datetime) -> None:
    """Hold a new release of a gated project until its request publishes it."""
    connection.execute(insert(HeldReleaseRecord).values(project=project, version=version, held_at=at))


class Holds:
    """The held rows, through ``session`` (the host's: TPP's tables live in its database)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def unopened(self, project: str | None = None, version: str | None = None) -> list[HeldFileRecord]:
        """Held files that no request covers yet (all of them, or one release's), oldest first."""
        query = select(HeldFileRecord).where(HeldFileRecord.state == HELD, HeldFileRecord.request_id.is_(None))
        if project is not None:
            query = query.where(HeldFileRecord.project == project, HeldFileRecord.version == version)
        return list(self._session.scalars(query.order_by(HeldFileRecord.held_at, HeldFileRecord.filename)))

    def held(self, project: str, version: str) -> list[HeldFileRecord]:
        """The release's held files, covered by a request or not, by name."""
        query = select(HeldFileRecord).where(
            HeldFileRecord.state == HELD, HeldFileRecord.project == project, HeldFileRecord.version == version
        )
        return list(self._session.scalars(query.order_by(HeldFileRecord.filename)))

    def uploaded_by(self, uploader: str, *, excluding: Select[tuple[str]]) -> list[tuple[str, str]]:
        """The (project, version) pairs with files ``uploader`` uploaded that are still held, but none
        of the projects ``excluding`` selects, by project and version."""
        query = select(HeldFileRecord.project, HeldFileRecord.version).where(
            HeldFileRecord.state == HELD, HeldFileRecord.uploader == uploader, HeldFileRecord.project.not_in(excluding)
        )
        return [
            (p, v)
            for p, v in self._session.execute(query.distinct().order_by(HeldFileRecord.project, HeldFileRecord.version))
        ]

    def in_state(self, state: str, filenames: Iterable[str] | None = None) -> list[HeldFileRecord]:
        """Held files in ``state`` (only those named, if ``filenames`` is given), locked until commit."""
        query = select(HeldFileRecord).where(HeldFileRecord.state == state)
        if filenames is not None:
            query = query.where(HeldFileRecord.filename.in_(list(filenames)))
        return list(self._session.scalars(query.order_by(HeldFileRecord.filename).with_for_update()))

    def start(self, files: Iterable[ReleaseFile], state: str) -> list[HeldFileRecord]:
        """Move exactly these files (by name and sha256) from held to ``state`` (publishing, purging).

        :raises InvalidTransition: if a file is not held, or held with other bytes: nothing that was
            not approved may become visible, so the caller's transaction must not commit.
        """
        wanted = {file.filename: file.sha256 for file in files}
        rows = {row.filename: row for row in self.in_state(HELD, wanted)}
        for filename, sha256 in wanted.items():
            row = rows.get(filename)
            if row is None or row.sha256 != sha256:
                raise InvalidTransition(f"{filename} with sha256 {sha256} is not held; refusing to {state} it")
            row.state = state
        self._session.flush()
        return [rows[filename] for filename in wanted]

    def release(self, project: str, version: str) -> bool:
        """Stop holding a release (its request published); returns whether it was held (new)."""
        result = self._session.execute(
            delete(HeldReleaseRecord).where(HeldReleaseRecord.project == project, HeldReleaseRecord.version == version)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def forget(self, row: HeldFileRecord) -> None:
        """Stop holding a published file: installers see it from the commit on."""
        self._session.delete(row)
        self._session.flush()


def __dir__() -> list[str]:
    return __all__
