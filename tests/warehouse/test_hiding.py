"""Hiding (I1) on the Warehouse-shaped host: every installer-facing read leaves verifying files and
releases out until they are published, and a rejected release stays hidden with its bytes deleted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload, subqueryload

from tests.warehouse.conftest import World
from tests.warehouse.dists import wheel
from tests.warehouse_host.models import File, Project, Release
from tests.warehouse_host.models import Session as HostSession
from tpp_core import RequestId, RequestState, Verdict
from tpp_warehouse.interfaces import IApprovalService
from tpp_warehouse.models import HeldFileRecord
from tpp_warehouse.scripting import scripted
from tpp_warehouse.warehouse.hiding import REVEAL, reveal
from tpp_warehouse.warehouse.holds import PURGED

OLD, NEW = wheel("acme", "1.0"), wheel("acme", "2.0")
SIMPLE_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def installer_view(world: World) -> dict[str, object]:
    """What an installer can learn about acme from each read path of the host."""
    app = world.app
    project = app.get("/pypi/acme/json").json
    return {
        "simple html": sorted(re.findall(r">([^<]+\.whl)</a>", app.get("/simple/acme/").text)),
        "simple json": sorted(f["filename"] for f in app.get("/simple/acme/", headers=SIMPLE_JSON).json["files"]),
        "json versions": sorted(project["releases"]),
        "json latest": project["info"]["version"],
        "release json": app.get("/pypi/acme/2.0/json", status="*").status_int,
    }


@pytest.fixture
def published_old(world: World) -> World:
    """acme 1.0 approved and public, then 2.0 uploaded and verifying."""
    world.gate()
    world.decide(world.request_of(world.upload(OLD)), "lead")
    return world


def file_url(world: World, filename: str) -> str:
    with Session(world.engine) as session:
        path = session.scalars(select(File.path).where(File.filename == filename)).one()
    return f"/packages/{path}"


def test_a_verifying_release_is_invisible_on_every_read_path(published_old: World) -> None:
    world = published_old
    before = installer_view(world)
    request_id = world.request_of(world.upload(NEW))
    assert (
        installer_view(world)
        == before
        == {
            "simple html": [OLD[0]],
            "simple json": [OLD[0]],
            "json versions": ["1.0"],
            "json latest": "1.0",
            "release json": 404,
        }
    )
    world.app.get(file_url(world, NEW[0]), status=404)  # the bytes are quarantined, not served
    world.app.get(file_url(world, NEW[0]) + ".metadata", status=404)
    serial = world.app.get("/simple/acme/").headers["X-PyPI-Last-Serial"]

    world.decide(request_id, "lead")
    assert installer_view(world) == {
        "simple html": [OLD[0], NEW[0]],
        "simple json": [OLD[0], NEW[0]],
        "json versions": ["1.0", "2.0"],
        "json latest": "2.0",
        "release json": 200,
    }
    assert world.app.get(file_url(world, NEW[0])).body == NEW[1]
    assert world.app.get(file_url(world, NEW[0]) + ".metadata").body.startswith(b"Metadata-Version: 2.1")
    # Publishing wrote a journal entry: the serial moved, so mirrors resync.
    assert int(world.app.get("/simple/acme/").headers["X-PyPI-Last-Serial"]) > int(serial)
    assert list(world.quarantine.rglob("*.whl*")) == []


def test_a_new_file_of_a_published_release_is_hidden_alone(published_old: World) -> None:
    world = published_old
    sdist = ("acme-1.0.tar.gz", b"sdist bytes")
    world.upload(sdist)
    assert installer_view(world)["simple html"] == [OLD[0]]
    assert sdist[0] not in world.app.get("/simple/acme/").text
    assert installer_view(world)["json versions"] == ["1.0"]  # the release itself stays public


def test_a_rejected_release_stays_hidden_and_its_bytes_are_deleted(published_old: World) -> None:
    world = published_old
    before = installer_view(world)
    request_id = world.request_of(world.upload(NEW))
    assert [p.name for p in world.quarantine.rglob("*.whl")] == [NEW[0]]
    world.decide(request_id, "cora", Verdict.REJECT)
    assert installer_view(world) == before
    assert list(world.quarantine.rglob("*.whl*")) == []
    world.app.get(file_url(world, NEW[0]), status=404)
    with Session(world.engine) as session:
        assert session.get(HeldFileRecord, NEW[0]).state == PURGED  # type: ignore[union-attr]


def test_queries_hide_by_default_and_reveal_on_request(published_old: World) -> None:
    world = published_old
    world.upload(NEW)
    with HostSession(bind=world.engine) as session:
        assert session.scalars(select(File.filename)).all() == [OLD[0]]
        assert session.scalars(select(Release.version)).all() == ["1.0"]
        (project,) = session.scalars(select(Project)).all()
        assert [r.version for r in project.releases] == ["1.0"]  # relationship loads too
        joined = session.execute(select(Release.version, File.filename).outerjoin(File)).all()
        assert [tuple(row) for row in joined] == [("1.0", OLD[0])]
        revealed = select(File.filename).order_by(File.filename).execution_options(**{REVEAL: True})
        assert session.scalars(revealed).all() == [OLD[0], NEW[0]]
    with HostSession(bind=world.engine) as session:
        session.info[REVEAL] = True  # what the upload route and management pages get
        assert len(session.scalars(select(File)).all()) == 2


#: Every way SQLAlchemy loads a relationship; each one must come back filtered.
LOADERS = {"lazy": lazyload, "selectin": selectinload, "joined": joinedload, "subquery": subqueryload}


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_every_relationship_load_hides_held_rows(published_old: World, loader: str) -> None:
    """The criteria are not propagated to loaded objects: each relationship load is filtered anew."""
    world = published_old
    world.upload(NEW)  # a held release
    world.upload(("acme-1.0.tar.gz", b"sdist bytes"))  # a held file of the public release
    with HostSession(bind=world.engine) as session:
        load = LOADERS[loader]
        projects = select(Project).options(load(Project.releases).options(load(Release.files)))
        (project,) = session.scalars(projects).unique()
        assert [(r.version, [f.filename for f in r.files]) for r in project.releases] == [("1.0", [OLD[0]])]
        (file,) = session.scalars(select(File).options(load(File.release).options(load(Release.files)))).unique()
        assert [f.filename for f in file.release.files] == [OLD[0]]  # back through the many-to-one


@contextmanager
def sqlalchemy_listening(engine: Engine, statements: list[str]) -> Iterator[None]:
    """Collect the SQL ``engine`` sends meanwhile."""

    def collect(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", collect)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", collect)


def test_a_lazy_load_carries_each_criterion_once(published_old: World) -> None:
    """Propagated from the parent's statement, not added a second time by the listener."""
    world = published_old
    world.upload(NEW)
    statements: list[str] = []
    with HostSession(bind=world.engine) as session:
        (project,) = session.scalars(select(Project))
        with sqlalchemy_listening(world.engine, statements):
            assert [r.version for r in project.releases] == ["1.0"]
            assert [f.filename for f in project.releases[0].files] == [OLD[0]]
    releases, files = statements
    assert releases.count("EXISTS") == 1
    assert files.count("EXISTS") == 1


@pytest.mark.parametrize(
    ("route", "revealed"),
    [
        ("forklift.legacy.file_upload", True),
        ("legacy.api.pypi.file_upload", True),
        ("manage.project.releases", True),
        ("admin.project.detail", True),
        ("tpp.request", True),
        ("api.simple.detail", False),
        ("api.simple.index", False),
        ("legacy.api.json.project", False),
        ("legacy.api.json.release", False),
        ("packaging.file", False),
        ("rss.updates", False),
        ("forklift.legacy.file_upload_not", False),
        (None, False),
    ],
)
def test_which_routes_see_held_rows(route: str | None, revealed: bool) -> None:
    assert reveal(route) is revealed


def test_an_expired_request_purges_its_bytes_and_stays_hidden(published_old: World) -> None:
    world = published_old
    request_id = world.request_of(world.upload(NEW))
    with scripted(world.pyramid) as request:
        approvals = request.find_service(IApprovalService, context=None)
        assert approvals.expire_overdue(datetime.now(UTC) + timedelta(days=8)) == 1
        request.tm.commit()
    assert world.registry.approvals.get(RequestId(request_id)).state is RequestState.EXPIRED
    assert list(world.quarantine.rglob("*.whl*")) == []
    assert installer_view(world)["json versions"] == ["1.0"]
