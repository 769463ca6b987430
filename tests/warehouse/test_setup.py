"""Including TPP into a Warehouse-shaped host: its settings, what it refuses, and holding in the
transaction of the host's own inserts (a rollback takes the hold with it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session as OrmSession
from zope.interface.verify import verifyObject

from tests.common.registry import Registry
from tests.common.scenario import group
from tests.warehouse.conftest import TOKEN, World, basic
from tests.warehouse.dists import wheel
from tests.warehouse_host import create_database, make_app
from tests.warehouse_host.models import File, Project, Release, Role
from tests.warehouse_host.models import Session as HostSession
from tpp_core import PersonId, Policy, ProjectName, Scope
from tpp_warehouse.interfaces import IHost
from tpp_warehouse.models import HeldFileRecord, HeldReleaseRecord, PolicyRecord
from tpp_warehouse.scripting import scripted
from tpp_warehouse.settings import SettingsError, TPPSettings
from tpp_warehouse.warehouse.capture import UNKNOWN_UPLOADER
from tpp_warehouse.warehouse.holds import is_gated

BASE = {"tpp.registry_name": "r", "tpp.webauthn.rp_id": "localhost", "tpp.webauthn.origin": "http://localhost:6543"}


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"tpp.quarantine.url": "relative/dir"}, "tpp.quarantine.url: expected a directory"),
        (
            {"tpp.quarantine.url": "s3://Bad_Bucket/x", "tpp.quarantine.public_url": "s3://tpp-public"},
            "the bucket must be",
        ),
        ({"tpp.quarantine.url": "s3://tpp-q"}, "tpp.quarantine.public_url: is required with an s3://"),
        (
            {"tpp.quarantine.url": "/q", "tpp.quarantine.public_url": "s3://tpp-public"},
            "only an s3:// tpp.quarantine.url",
        ),
        ({"tpp.quarantine.public_url": "/srv/files"}, "tpp.quarantine.public_url: expected an S3 location"),
        ({"tpp.quarantine.s3_endpoint_url": "localhost:9000"}, "expected an http(s) URL"),
        ({"tpp.warehouse.shapes": "not a name"}, "tpp.warehouse.shapes: expected a dotted Python name"),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as raised:
        TPPSettings.from_settings({**BASE, **settings})
    assert problem in str(raised.value)


def test_settings_are_normalized() -> None:
    settings = TPPSettings.from_settings(
        {
            **BASE,
            "tpp.quarantine.url": " s3://tpp-q/held/ ",
            "tpp.quarantine.public_url": "s3://tpp-public/",
            "tpp.quarantine.s3_endpoint_url": "http://127.0.0.1:9000",
        }
    )
    assert (settings.quarantine_url, settings.quarantine_public_url) == ("s3://tpp-q/held", "s3://tpp-public/")
    # The public prefix is kept as written, for Warehouse joins it to a path with nothing between.
    raw = TPPSettings.from_settings(
        {**BASE, "tpp.quarantine.url": "s3://tpp-q", "tpp.quarantine.public_url": "s3://b-1/p"}
    )
    assert raw.quarantine_public_url == "s3://b-1/p"
    assert TPPSettings.from_settings({**BASE, "tpp.quarantine.url": "file:///var/q"}).quarantine_url == "/var/q"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"tpp.database_url": "sqlite:///elsewhere.sqlite"}, "tpp.database_url: must be left out"),
        ({"tpp.quarantine.url": None}, "tpp.quarantine.url: is required for a Warehouse-shaped host"),
        ({"tpp.warehouse.shapes": "tests.no_such_module:SHAPES"}, "tpp.warehouse.shapes: cannot import"),
        ({"tpp.warehouse.shapes": "tpp_warehouse.warehouse:NOPE"}, "tpp.warehouse.shapes: cannot import"),
    ],
)
def test_the_include_refuses_what_cannot_be_safe(tmp_path: Path, settings: dict[str, object], problem: str) -> None:
    values: dict[str, Any] = {"files": str(tmp_path), "tpp.quarantine.url": str(tmp_path / "q"), **settings}
    with pytest.raises(SettingsError, match=problem):
        make_app(f"sqlite:///{tmp_path / 'db.sqlite'}", tokens={}, **{k: v for k, v in values.items() if v is not None})


@pytest.fixture
def gated(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """acme gated, and TPP included (which installs the listeners on the host's classes)."""
    engine = create_database(database_url, "lead")
    app = make_app(database_url, tokens={}, files=str(tmp_path), **{"tpp.quarantine.url": str(tmp_path / "q")})
    with HostSession(bind=engine) as session:
        registry = Registry(session)
        registry.enrol("lead", ready=False)
        registry.set_policy(Policy(scope=Scope.project("acme"), version=1, groups=(group("g", "lead"),)))
        session.commit()
    yield engine
    app.registry["host.engine"].dispose()
    engine.dispose()


def _add_release(session: OrmSession) -> None:
    project = Project(name="Acme", normalized_name="acme")
    release = Release(project=project, version="1.0", canonical_version="1")
    session.add(
        File(
            release=release,
            filename="acme-1.0.tar.gz",
            path="aa/bb/cc/acme-1.0.tar.gz",
            packagetype="sdist",
            python_version="source",
            size=3,
            md5_digest="0" * 32,
            sha256_digest="1" * 64,
            blake2_256_digest="2" * 64,
        )
    )
    session.flush()


def test_holding_rolls_back_with_the_insert(gated: Engine) -> None:
    with HostSession(bind=gated) as session:
        _add_release(session)
        assert session.scalars(select(HeldFileRecord.filename)).all() == ["acme-1.0.tar.gz"]
        session.rollback()
        assert session.scalars(select(HeldFileRecord)).all() == []
        assert session.scalars(select(HeldReleaseRecord)).all() == []


def test_holding_commits_with_the_insert_outside_any_web_request(gated: Engine) -> None:
    with HostSession(bind=gated) as session:
        _add_release(session)
        session.commit()
    with HostSession(bind=gated) as session:
        (row,) = session.scalars(select(HeldFileRecord)).all()
        assert (row.project, row.version, row.uploader, row.request_id) == ("acme", "1.0", UNKNOWN_UPLOADER, None)
        assert [(r.project, r.version) for r in session.scalars(select(HeldReleaseRecord))] == [("acme", "1.0")]
        assert session.scalars(select(File)).all() == []  # hidden from the host's own queries too


def test_the_host_adapter_implements_the_port(world: World) -> None:
    with scripted(world.pyramid) as request:
        host = request.find_service(IHost, context=None)
        verifyObject(IHost, host)
        assert host.owners(ProjectName("acme")) == frozenset()
        world.upload(wheel("beta", "1.0"))  # ci creates beta and becomes its owner
        assert host.owners(ProjectName("beta")) == {"ci"}
        assert host.may_manage(PersonId("ci"), Scope.project("beta"))
        assert not host.may_manage(PersonId("lead"), Scope.project("beta"))
        assert not host.may_manage(PersonId("nobody"), Scope.project("beta"))
        assert not host.may_manage(PersonId("ci"), Scope.prefix("be"))
        assert host.may_manage(PersonId("root"), Scope.prefix("be"))


def test_the_host_adapter_finds_held_uploads_of_projects_without_an_owner(world: World) -> None:
    world.gate()
    world.upload()  # ci creates acme (held: gated) and becomes its owner
    world.upload(wheel("beta", "1.0"))  # not gated: nothing held
    with scripted(world.pyramid) as request:
        host = request.find_service(IHost, context=None)
        assert host.unowned(PersonId("ci")) == []
        request.db.execute(delete(Role))  # acme and beta lose their owners
        assert host.unowned(PersonId("ci")) == [("acme", "1.0")]
        assert host.unowned(PersonId("lead")) == []  # not the uploader


def test_only_a_browser_session_is_a_session_person(world: World) -> None:
    world.gate()
    request_id = world.request_of(world.upload())
    # CI's token reads the status JSON but cannot open the approval page (I3).
    world.app.get(f"/tpp/requests/{request_id}", headers=basic(TOKEN), status=403)
    world.app.post("/login", {"person": "lead"})
    assert "acme" in world.app.get(f"/tpp/requests/{request_id}").text


def test_gating_is_decided_once_per_session(gated: Engine) -> None:
    with HostSession(bind=gated) as session:
        assert is_gated(session, "Acme")
        assert not is_gated(session, "beta")
        session.execute(delete(PolicyRecord))
        assert is_gated(session, "acme")  # the storage and the listener of one upload agree
        session.rollback()
