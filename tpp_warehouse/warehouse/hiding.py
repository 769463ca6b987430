"""Hiding held files and releases from every query of a Warehouse-shaped host, unless it opts out.

A ``do_orm_execute`` listener on the host's sessionmaker adds ``with_loader_criteria`` for its File
and Release classes to every ORM SELECT: the simple index (HTML and JSON), the JSON API, project
pages, RSS, XML-RPC, search indexing and jobs all lose held rows without knowing about TPP. Hidden
is the default (fail closed, invariant I1); seeing held rows takes an explicit opt-out:

* a route whose name is in :data:`REVEALING_ROUTES` or starts with one of
  :data:`REVEALING_PREFIXES` (the upload, whose duplicate checks must see held files; management
  and admin pages; TPP's own pages) — set per request, after the route matched;
* a statement run with ``execution_options(tpp_reveal=True)`` (TPP's own publish and purge).

Raw ``text()`` SQL and ``Session.get`` of an object already in the identity map are not filtered.

Usage::

    install_hiding(Session, File, Release, Project)       # once, from tpp_warehouse.warehouse
    session.scalars(select(File))                        # held files are left out
    session.scalars(select(File).execution_options(tpp_reveal=True))   # all files
"""

from __future__ import annotations

from typing import Any

from pyramid.events import BeforeTraversal
from sqlalchemy import ColumnElement, event, exists
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from tpp_warehouse.models import HeldFileRecord, HeldReleaseRecord

__all__ = ["REVEAL", "REVEALING_PREFIXES", "REVEALING_ROUTES", "includeme", "install_hiding", "reveal"]

#: The execution option, and the ``session.info`` key, that let a statement see held rows.
REVEAL = "tpp_reveal"
#: Routes whose requests see held rows: Warehouse's upload endpoints.
REVEALING_ROUTES = frozenset({"forklift.legacy.file_upload", "legacy.api.pypi.file_upload"})
#: Route name prefixes whose requests see held rows: management, admin, and TPP's pages.
REVEALING_PREFIXES = ("manage.", "admin.", "tpp.")

_held_files = HeldFileRecord.__table__
_held_releases = HeldReleaseRecord.__table__
_installed: set[int] = set()


def install_hiding(session_target: Any, file_cls: type, release_cls: type, project_cls: type) -> None:
    """Add the listener to ``session_target`` (the host's sessionmaker or Session class), once."""
    if id(session_target) in _installed:
        return
    # An alias: a query that already joins the host's projects must not correlate with this one.
    projects = project_cls.__table__.alias("tpp_held_project")  # type: ignore[attr-defined]

    def file_visible(cls: Any) -> ColumnElement[bool]:
        return ~exists().where(_held_files.c.filename == cls.filename)

    def release_visible(cls: Any) -> ColumnElement[bool]:
        return ~exists().where(
            projects.c.id == cls.project_id,
            _held_releases.c.project == projects.c.normalized_name,
            _held_releases.c.version == cls.version,
        )

    # Made once: a lazy load carries the options of the statement that loaded its parent (joined
    # eager loads need that propagation), and finding them there spares adding each criterion twice.
    hiding = (
        with_loader_criteria(file_cls, file_visible, include_aliases=True),
        with_loader_criteria(release_cls, release_visible, include_aliases=True),
    )

    def hide(state: ORMExecuteState) -> None:
        if not state.is_select or state.is_column_load:
            return
        if state.execution_options.get(REVEAL) or state.session.info.get(REVEAL):
            return
        carried = state.statement._with_options  # no public accessor; the hiding tests pin it
        if not all(option in carried for option in hiding):
            state.statement = state.statement.options(*hiding)

    event.listen(session_target, "do_orm_execute", hide)
    _installed.add(id(session_target))


def reveal(route_name: str | None) -> bool:
    """Whether requests of this route see held rows (see the module docstring)."""
    if route_name is None:
        return False
    return route_name in REVEALING_ROUTES or route_name.startswith(REVEALING_PREFIXES)


def _opt_out(event: Any) -> None:
    # BeforeTraversal: the route has matched, and no route factory (which may query) has run yet.
    route = getattr(event.request, "matched_route", None)
    if reveal(None if route is None else route.name):
        event.request.db.info[REVEAL] = True


def includeme(config: Any) -> None:
    config.add_subscriber(_opt_out, BeforeTraversal)


def __dir__() -> list[str]:
    return __all__
