"""On a Warehouse-shaped host with ``tpp.redis_url``, a held upload answers at once and TPP's worker
opens its request: ``tpp worker --app``, as a Warehouse operator runs it, on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis import Redis
from sqlalchemy import select

from tests.common.databases import Slot
from tests.common.services import REDIS_URL
from tests.warehouse.conftest import TOKEN, World, basic, open_world, status_url_of
from tests.warehouse.dists import wheel
from tpp_warehouse.cli import main
from tpp_warehouse.models import HeldFileRecord

pytestmark = pytest.mark.service

WHEEL = wheel("acme", "1.0")

#: What :func:`configured` hands to ``tpp worker --app`` (the test's app, as Warehouse's
#: ``configure()`` would build it from its environment).
_apps: list[Any] = []


def configured() -> Any:
    return _apps[-1]


@pytest.fixture
def world(host_slot: Slot, tmp_path: Path, redis_connection: Redis, queue_name: str) -> Iterator[World]:
    jobs = {"tpp.redis_url": REDIS_URL, "tpp.queue_name": queue_name}
    storage = {"files": str(tmp_path / "files"), "tpp.quarantine.url": str(tmp_path / "quarantine")}
    host_slot.restore()
    for world in open_world(host_slot.url, tmp_path, **storage, **jobs):
        _apps.append(world.pyramid)
        yield world
        _apps.clear()


def request_ids(world: World) -> list[str | None]:
    world.registry.session.expire_all()
    return list(world.registry.session.scalars(select(HeldFileRecord.request_id)))


def test_the_upload_answers_before_the_worker_opens_its_request(world: World) -> None:
    world.gate()
    answer = world.upload(WHEEL)
    status = urlsplit(status_url_of(answer.text)).path
    assert request_ids(world) == [None]  # the job waits in Redis
    assert WHEEL[0] not in world.app.get("/simple/acme/").text  # held all the same
    opening = world.app.get(status, headers=basic(TOKEN), status=200).json  # no request yet, and CI hears why
    assert (opening["state"], [f["filename"] for f in opening["files"]]) == ("opening", [WHEEL[0]])
    world.app.get(status, headers=basic("pypi-someone-else"), status=403)

    assert main(["worker", "--app", f"{__name__}:configured", "--burst"]) == 0
    request_id = world.request_of(answer)
    assert request_ids(world) == [request_id]
    assert WHEEL[0] not in world.app.get("/simple/acme/").text
    world.decide(request_id, "lead")
    assert WHEEL[0] in world.app.get("/simple/acme/").text


def test_with_redis_down_the_upload_stays_held_until_reconciled(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.gate()
    monkeypatch.setattr(world.pyramid["tpp.queue"].queue, "connection", Redis.from_url("redis://127.0.0.1:1/0"))
    answer = world.upload(WHEEL)
    assert answer.status_int == 200  # the upload is committed; only its request waits
    assert request_ids(world) == [None]
    monkeypatch.undo()
    assert main(["tick", "--app", f"{__name__}:configured"]) == 0  # reconciles: opens the request
    assert world.request_of(answer) == request_ids(world)[0]
