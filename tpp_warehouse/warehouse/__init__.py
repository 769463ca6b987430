"""TPP in a Warehouse-shaped registry: the host adapter, and the include that wires capture, hiding,
the journal and quarantine storage into the host.

Warehouse has no plugin hook, and ``pyramid.includes`` runs before its own includes, so the host
includes TPP after configuring itself, in its web and its worker (Celery) process alike; :func:`configure`
does both steps (see docs/warehouse.rst)::

    application = configure().make_wsgi_app()      # mywarehouse/wsgi.py
    app = configure().make_celery_app()            # mywarehouse/celery.py

The shapes TPP relies on (:class:`Shapes`; Warehouse's by default, ``tpp.warehouse.shapes`` to point
elsewhere): ``request.db`` (the host's session, joined to ``request.tm`` by zope.sqlalchemy),
``request.user.username`` and then ``request.authentication_method`` (``"session"`` for a browser;
Warehouse sets it while it resolves ``request.user``), the models' columns (``Project.name/normalized_name``,
``Release.project/version``, ``File.release/filename/sha256_digest/size/path/python_version``,
``Role.user/project/role_name``, ``User.username/is_superuser``, ``JournalEntry.name/version/action``)
and an ``IFileStorage`` registered with pyramid_services under the name ``archive``, whose ``store``
receives ``meta["project"]``. TPP's tables live in the host's database (``tpp.database_url`` unset) so
that holding a file commits with its upload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any, Self

from pyramid.path import DottedNameResolver
from pyramid_services import IServiceRegistry, ProxyFactory
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_dirty
from zope.interface import implementer

from tpp_core import PersonId, ProjectName, Publish, Purge, ReleaseFile, Scope, ScopeKind, Sha256
from tpp_warehouse.interfaces import IHost
from tpp_warehouse.scripting import scripted
from tpp_warehouse.settings import SettingsError, TPPSettings
from tpp_warehouse.tasks import HOUSEKEEPING

from .capture import install_capture, open_unopened
from .derivers import host_view_options
from .hiding import REVEAL, install_hiding
from .holds import PUBLISHING, PURGED, PURGING, Holds, is_gated
from .journal import install_journal, write_published
from .quarantine import GatedFileStorage, IQuarantine, QuarantineError, Quarantines

__all__ = ["WAREHOUSE", "Shapes", "WarehouseHost", "configure", "finish", "includeme", "reconcile"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shapes:
    """Where a Warehouse-shaped host keeps what TPP uses: dotted names, resolved at include time."""

    session: str
    project: str
    release: str
    file: str
    user: str
    role: str
    journal_entry: str
    file_storage: str

    @classmethod
    def in_modules(cls, *, session: str, packaging: str, accounts: str, interfaces: str) -> Shapes:
        """The shapes of a host laid out as Warehouse is: ``Session`` in ``session``, the packaging
        models in ``packaging``, ``User`` in ``accounts``, ``IFileStorage`` in ``interfaces``."""
        models = {
            name: f"{packaging}:{name.title().replace('_', '')}" for name in ("project", "release", "file", "role")
        }
        return cls(
            session=f"{session}:Session",
            user=f"{accounts}:User",
            journal_entry=f"{packaging}:JournalEntry",
            file_storage=f"{interfaces}:IFileStorage",
            **models,
        )


#: Warehouse's own (pypi/warehouse); a host shaped like it names its own in ``tpp.warehouse.shapes``.
WAREHOUSE = Shapes.in_modules(
    session="warehouse.db",
    packaging="warehouse.packaging.models",
    accounts="warehouse.accounts.models",
    interfaces="warehouse.packaging.interfaces",
)


@dataclass(frozen=True, slots=True)
class _Host:
    """The resolved shapes."""

    session: Any
    project: Any
    release: Any
    file: Any
    user: Any
    role: Any
    journal_entry: Any
    file_storage: Any


def _reveal(statement: Any) -> Any:
    return statement.execution_options(**{REVEAL: True})


@implementer(IHost)
class WarehouseHost:
    """The host port over a Warehouse-shaped database; one per request (or job)."""

    def __init__(self, session: Session, host: _Host, tm: Any, registry: Any, quarantine: IQuarantine) -> None:
        self._session = session
        self._host = host
        self._tm = tm
        self._registry = registry
        self._quarantine = quarantine

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory."""
        registry = request.registry
        public = registry["tpp.public_storage"](context, request)
        return cls(request.db, registry["tpp.host"], request.tm, registry, registry["tpp.quarantines"](public))

    def session_person(self, request: Any) -> PersonId | None:
        # request.user first: Warehouse sets authentication_method only while it resolves the identity
        # (warehouse/accounts/security_policy.py), so read before it, the method is not there yet.
        person = self.credential_person(request)
        method = getattr(request, "authentication_method", None)
        if person is None or getattr(method, "value", method) != "session":
            return None  # API tokens and basic auth never approve (I3)
        return person

    def credential_person(self, request: Any) -> PersonId | None:
        username = getattr(request.user, "username", None)
        return None if username is None else PersonId(username)

    def may_manage(self, person: PersonId, scope: Scope) -> bool:
        if scope.kind is not ScopeKind.PROJECT:
            return self.is_admin(person)  # a prefix spans projects: the registry's admins
        return person in self.owners(ProjectName(scope.value))

    def is_admin(self, person: PersonId) -> bool:
        user = self._session.scalars(select(self._host.user).where(self._host.user.username == person)).first()
        return user is not None and bool(user.is_superuser)

    def owners(self, project: ProjectName) -> frozenset[PersonId]:
        query = self._owner_roles(self._host.user.username).where(self._host.project.normalized_name == project)
        return frozenset(PersonId(name) for name in self._session.scalars(query))

    def _owner_roles(self, column: Any) -> Any:
        """``column`` of every Owner role, its user and project joined."""
        h = self._host
        return (
            select(column)
            .select_from(h.user)
            .join(h.role, h.role.user_id == h.user.id)
            .join(h.project, h.role.project_id == h.project.id)
            .where(h.role.role_name == "Owner")
        )

    def held(self, project: ProjectName, version: str) -> list[tuple[ReleaseFile, PersonId]]:
        rows = Holds(self._session).held(project, version)
        return [
            (ReleaseFile(filename=r.filename, sha256=Sha256(r.sha256), size=r.size), PersonId(r.uploader)) for r in rows
        ]

    def unowned(self, person: PersonId) -> list[tuple[ProjectName, str]]:
        owned = self._owner_roles(self._host.project.normalized_name)
        return [(ProjectName(p), v) for p, v in Holds(self._session).uploaded_by(person, excluding=owned)]

    def publish(self, action: Publish) -> None:
        """Mark the approved files publishing; after commit their bytes are promoted and they appear."""
        rows = Holds(self._session).start(action.release.files, PUBLISHING)
        for row in rows:
            # The host's row must still hold the approved bytes (I1): sha256 from the File itself.
            digest = self._session.scalars(
                _reveal(select(self._host.file.sha256_digest).where(self._host.file.filename == row.filename))
            ).first()
            if digest != row.sha256:
                raise QuarantineError(f"{row.filename} in the registry is not the approved file; not published")
        self._after_commit([row.filename for row in rows])

    def purge(self, action: Purge) -> None:
        """Mark the files purging; after commit their quarantined bytes are deleted (they stay hidden)."""
        rows = Holds(self._session).start(action.files, PURGING)
        self._after_commit([row.filename for row in rows])

    def _after_commit(self, filenames: list[str]) -> None:
        def run(succeeded: bool) -> None:
            if succeeded:
                try:
                    finish(self._registry, filenames)
                except Exception:  # committed: the files stay hidden until reconcile finishes them
                    log.exception("tpp: could not finish publishing or purging %s; reconcile will", filenames)

        self._tm.get().addAfterCommitHook(run)

    def finish_publishing(self, filenames: list[str] | None) -> int:
        """Promote the bytes of publishing files, then show them and their release; returns how many."""
        holds, published = Holds(self._session), dict[tuple[str, str], list[str]]()
        for row in holds.in_state(PUBLISHING, filenames):
            if self._quarantine.contains(row.path):
                self._quarantine.promote(row.path, row.sha256)
            else:  # promoted by an attempt whose commit failed
                log.warning("tpp: %s is no longer quarantined; assuming it was promoted", row.path)
            published.setdefault((row.project, row.version), []).append(row.filename)
            holds.forget(row)
        for (project, version), names in sorted(published.items()):
            self._announce(project, version, names, new_release=holds.release(project, version))
        return sum(map(len, published.values()))

    def finish_purging(self, filenames: list[str] | None) -> int:
        """Delete the quarantined bytes of purging files; returns how many."""
        rows = Holds(self._session).in_state(PURGING, filenames)
        for row in rows:
            self._quarantine.delete(row.path)
            row.state = PURGED
        return len(rows)

    def _announce(self, project: str, version: str, filenames: list[str], *, new_release: bool) -> None:
        """Tell the host what became visible, as its own upload would have: the journal entries (the
        changelog and the serial mirrors follow), and the release marked changed, so that the host's
        flush listeners purge its cache keys (Warehouse's ``project/<name>``, ``all-projects``) and
        reindex the project."""
        h = self._host
        release = self._session.scalars(
            _reveal(
                select(h.release)
                .join(h.project, h.release.project_id == h.project.id)
                .where(h.project.normalized_name == project, h.release.version == version)
            )
        ).first()
        files = self._session.execute(
            _reveal(select(h.file.python_version, h.file.filename).where(h.file.filename.in_(filenames)))
        ).all()
        name = project if release is None else release.project.name
        if release is not None:
            flag_dirty(release)
        write_published(
            self._session, h.journal_entry, name, version, sorted(tuple(f) for f in files), new_release=new_release
        )


def finish(registry: Any, filenames: list[str] | None = None) -> dict[str, int]:
    """Promote publishing files and delete purging ones (only ``filenames``, if given), in a
    transaction of their own; returns how many of each."""
    with scripted(registry) as request:
        host = request.find_service(IHost, context=None)
        done = {"published": host.finish_publishing(filenames), "purged": host.finish_purging(filenames)}
        request.tm.commit()
    return done


def reconcile(registry: Any) -> dict[str, int]:
    """Catch up after a crash: open requests for held files that have none, finish publishing and
    purging. Safe to run at any time, and what a host's worker runs periodically."""
    return {"opened": open_unopened(registry), **finish(registry)}


def _resolve(settings: TPPSettings) -> _Host:
    resolver = DottedNameResolver()
    try:
        shapes = resolver.resolve(settings.warehouse_shapes)
        return _Host(**{f.name: resolver.resolve(getattr(shapes, f.name)) for f in fields(Shapes)})
    except (ImportError, AttributeError, ValueError) as error:
        raise SettingsError(f"tpp.warehouse.shapes: cannot import the host's shapes: {error}") from None


def _wrap_archive_storage(config: Any, host: _Host) -> None:
    """Put the quarantine in front of the host's archive storage, once the host registered it."""
    services = config.registry.getUtility(IServiceRegistry)
    inner = config.find_service_factory(host.file_storage, name="archive")
    config.registry["tpp.public_storage"] = inner

    def gated(context: object, request: Any) -> GatedFileStorage:
        storage = inner(context, request)
        quarantine = request.registry["tpp.quarantines"](storage)
        return GatedFileStorage(storage, quarantine, lambda project: is_gated(request.db, project))

    services.register_factory(ProxyFactory(gated), host.file_storage, context=None, name="archive")


def includeme(config: Any) -> None:
    config.include("tpp_warehouse")
    settings: TPPSettings = config.registry["tpp.settings"]
    if settings.database_url is not None:
        raise SettingsError(
            "tpp.database_url: must be left out for a Warehouse-shaped host; TPP's tables go into the"
            " host's database, so that holding a file commits with its upload"
        )
    try:
        config.registry["tpp.quarantines"] = Quarantines(settings)
    except QuarantineError as error:
        raise SettingsError(str(error)) from None
    host = config.registry["tpp.host"] = _resolve(settings)
    install_hiding(host.session, host.file, host.release, host.project)
    install_capture(host.file, host.release)
    install_journal(host.session, host.journal_entry)
    config.include(".hiding")
    config.include(".capture")
    config.register_service_factory(WarehouseHost.create_service, IHost)
    config.add_view_deriver(host_view_options)  # require_methods, uses_session for the host's derivers
    config.registry.setdefault(HOUSEKEEPING, []).append(reconcile)  # `tpp tick` and the worker catch up
    # After the host's own registrations (order 0), whether they are committed already or not.
    config.action(None, lambda: _wrap_archive_storage(config, host), order=10)


def configure(settings: dict[str, Any] | None = None) -> Any:
    """Warehouse's configuration with TPP included and committed: the one entry point of the web
    application and of the Celery worker, so both hide, capture and quarantine alike."""
    from warehouse.config import configure as configure_warehouse  # type: ignore[import-not-found]

    config = configure_warehouse(settings)
    config.include("tpp_warehouse.warehouse")
    config.commit()
    return config


def __dir__() -> list[str]:
    return __all__
