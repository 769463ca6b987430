"""A Warehouse-shaped test host: a small Pyramid registry with Warehouse's route names, model shapes,
``request.db`` session, per-request transaction manager and ``IFileStorage`` service, that includes
TPP the way docs/warehouse.rst tells a Warehouse deployment to.

It behaves as Warehouse does where TPP meets it, each checked against Warehouse's source: views get
GET/HEAD/OPTIONS only unless they declare ``require_methods``, and ``request.session`` raises unless
they declare ``uses_session`` (:mod:`.derivers`); ``request.authentication_method`` exists only once
the identity was resolved (:mod:`.identity`); a tween overwrites every page's Content-Security-Policy
(:mod:`.csp`); the upload writes journal entries (:mod:`.views`) that XML-RPC serves (:mod:`.xmlrpc`);
changes to File, Release and Project purge cache keys after commit (:mod:`.cache`); S3 keys are the
files prefix and the path joined with nothing between (:mod:`.storage`).

Uploads authenticate with API tokens (``__token__:<token>`` basic auth, as twine sends them);
browsers sign in through a test-only form (``POST /login``). Not shipped: tests only.

Usage::

    app = make_app(database_url, files="/srv/files", quarantine="/srv/quarantine",
                   tokens={"ci-token": "ci"})
"""

from __future__ import annotations

from typing import Any

import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.session import SignedCookieSessionFactory
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as OrmSession

from tpp_warehouse.db import make_engine
from tpp_warehouse.migrate import upgrade
from tpp_warehouse.warehouse import Shapes

from . import views
from .cache import REGISTRY
from .identity import MultiSecurityPolicy, user
from .models import Model, Session, User
from .storage import IFileStorage, LocalFileStorage, S3FileStorage
from .xmlrpc import xmlrpc_view

__all__ = ["ORIGIN", "SHAPES", "configure", "create_database", "make_app"]

ORIGIN = "http://localhost:6543"

#: Where this host keeps what TPP relies on (``tpp.warehouse.shapes``).
SHAPES = Shapes.in_modules(
    session="tests.warehouse_host.models",
    packaging="tests.warehouse_host.models",
    accounts="tests.warehouse_host.models",
    interfaces="tests.warehouse_host.storage",
)


def create_database(url: str, *people: str) -> Engine:
    """The host's tables and users, then TPP's (``tpp db upgrade`` on the same database)."""
    engine = make_engine(url)
    Model.metadata.create_all(engine)
    with OrmSession(engine) as session, session.begin():
        session.add_all(User(username=person, is_superuser=person == "root") for person in people)
    upgrade(url)
    return engine


class PyPIActionPredicate:
    """Warehouse's ``pypi_action`` route predicate: matches the ``:action`` form field."""

    def __init__(self, action: str, config: Any) -> None:
        self.action = action

    def text(self) -> str:
        return f"pypi_action = {self.action}"

    phash = text

    def __call__(self, info: Any, request: Any) -> bool:
        return bool(request.params.get(":action") == self.action)


def _db(request: Any) -> OrmSession:
    session: OrmSession = Session(bind=request.registry["host.engine"], info={REGISTRY: request.registry})
    zope.sqlalchemy.register(session, transaction_manager=request.tm)
    request.add_finished_callback(lambda r: session.close())
    return session


def _login(request: Any) -> HTTPSeeOther:
    """The test-only sign-in: remembers the person's user id in the session."""
    found = request.db.scalars(select(User).where(User.username == request.POST["person"])).first()
    if found is not None:
        request.session["auth.userid"] = found.username
    return HTTPSeeOther(location=request.POST.get("next", "/"))


def configure(
    database_url: str,
    *,
    tokens: dict[str, str],
    files: str | None = None,
    bucket: str | None = None,
    s3: Any = None,
    **settings: Any,
) -> Configurator:
    """The host's own configuration, committed, without TPP (what bench/warehouse_host.py compares
    TPP with): local file storage at ``files``, or the S3 ``bucket`` through the boto3 client
    ``s3``; ``settings`` are more (``tpp.*``) settings."""
    config = Configurator(
        settings={
            "tm.manager_hook": "pyramid_tm.explicit_manager",  # as Warehouse: one manager per request
            "tm.annotate_user": False,  # as Warehouse: the identity is resolved once a route matched
            "files.path": files,
            "files.bucket": bucket,
            "tpp.warehouse.shapes": "tests.warehouse_host:SHAPES",
            "tpp.registry_name": "https://warehouse.example",
            "tpp.webauthn.rp_id": "localhost",
            "tpp.webauthn.origin": ORIGIN,
            "tpp.device_cooldown": "0",
            **settings,
        }
    )
    config.registry["host.engine"] = make_engine(database_url)
    config.registry["host.tokens"] = tokens
    config.registry["host.s3"] = s3
    config.registry["host.purged"] = []  # the cache keys each commit purged (.cache)
    config.set_session_factory(SignedCookieSessionFactory("test-only-secret", secure=False, httponly=True))
    config.set_security_policy(MultiSecurityPolicy())
    config.include("pyramid_services")
    config.include("pyramid_tm")
    config.include(".derivers")
    config.include(".csp")
    config.include("tests.common.bodies")
    config.add_request_method(_db, name="db", reify=True)
    config.add_request_method(user, name="user", reify=True)
    storage = LocalFileStorage if bucket is None else S3FileStorage
    config.register_service_factory(storage.create_service, IFileStorage, name="archive")
    config.add_route_predicate("pypi_action", PyPIActionPredicate)
    config.add_route("forklift.legacy.file_upload", "/legacy/", pypi_action="file_upload")
    config.add_route("api.simple.index", "/simple/")
    config.add_route("api.simple.detail", "/simple/{name}/")
    config.add_route("legacy.api.json.project", "/pypi/{name}/json")
    config.add_route("legacy.api.json.release", "/pypi/{name}/{version}/json")
    config.add_route("xmlrpc.pypi", "/pypi")
    config.add_route("packaging.file", "/packages/*path")
    config.add_route("login", "/login")
    # The view options are Warehouse's: forklift's upload and its login declare POST and the session.
    post = {"require_methods": ["POST"], "require_csrf": False}
    config.add_view(views.file_upload, route_name="forklift.legacy.file_upload", uses_session=True, **post)
    config.add_view(views.simple_index, route_name="api.simple.index")
    config.add_view(views.simple_detail, route_name="api.simple.detail")
    config.add_view(views.json_project, route_name="legacy.api.json.project", renderer="json")
    config.add_view(views.json_release, route_name="legacy.api.json.release", renderer="json")
    config.add_view(xmlrpc_view, route_name="xmlrpc.pypi", **post)
    config.add_view(views.package_file, route_name="packaging.file")
    config.add_view(_login, route_name="login", uses_session=True, **post)
    config.commit()  # Warehouse's configure() ends with a commit; TPP is included after it
    return config


def make_app(database_url: str, **options: Any) -> Any:
    """The host with TPP included after its own configuration, as docs/warehouse.rst says;
    ``options`` are :func:`configure`'s."""
    config = configure(database_url, **options)
    config.include("tpp_warehouse.warehouse")
    return config.make_wsgi_app()
