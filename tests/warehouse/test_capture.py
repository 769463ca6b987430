"""Upload capture on the Warehouse-shaped host: held in the upload's transaction, the request opened
after commit and named in the 200 answer; bad uploads refused with nothing held or stored."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.warehouse.conftest import TOKEN, World, basic, status_url_of
from tests.warehouse.dists import wheel
from tpp_core import RequestId, RequestState
from tpp_warehouse import warehouse
from tpp_warehouse.models import HeldFileRecord, HeldReleaseRecord
from tpp_warehouse.tasks import tick
from tpp_warehouse.warehouse import capture
from tpp_warehouse.warehouse.holds import HELD, PUBLISHING

WHEEL = wheel("acme", "1.0")
SDIST = ("acme-1.0.tar.gz", b"not really a tarball, but the host does not look inside sdists")


def held(world: World) -> dict[str, HeldFileRecord]:
    world.registry.session.expire_all()
    return {row.filename: row for row in world.registry.session.scalars(select(HeldFileRecord))}


def test_upload_to_a_gated_project_is_held_and_names_its_request(world: World) -> None:
    world.gate()
    answer = world.upload(WHEEL)
    assert status_url_of(answer.text) == "http://localhost:6543/tpp/releases/acme/1.0/status.json"
    request_id = world.request_of(answer)
    request = world.registry.approvals.get(RequestId(request_id))
    assert request.state is RequestState.VERIFYING
    assert request.uploader == "ci"
    (file,) = request.subject.files  # type: ignore[union-attr]
    assert (file.filename, file.sha256) == (WHEEL[0], hashlib.sha256(WHEEL[1]).hexdigest())
    row = held(world)[WHEEL[0]]
    assert (row.state, row.request_id, row.project, row.version) == (HELD, request_id, "acme", "1.0")
    # The status URL answers CI's token (the status JSON is the one page tokens may read).
    status = world.app.get(f"/tpp/requests/{request_id}/status.json", headers=basic(TOKEN)).json
    assert status["state"] == "verifying"


def test_more_files_of_the_version_join_its_request(world: World) -> None:
    world.gate()
    first = world.request_of(world.upload(WHEEL))
    second = world.request_of(world.upload(SDIST))
    assert first == second
    request = world.registry.approvals.get(RequestId(first))
    assert {f.filename for f in request.subject.files} == {WHEEL[0], SDIST[0]}  # type: ignore[union-attr]


def test_an_ungated_project_is_public_at_once(world: World) -> None:
    world.gate("acme")
    answer = world.upload(wheel("beta", "2.0"))
    assert answer.text == ""  # what Warehouse answers: nothing to say
    assert held(world) == {}
    assert "beta-2.0-py3-none-any.whl" in world.app.get("/simple/beta/").text
    assert list(world.quarantine.rglob("*.whl")) == []


def test_the_same_file_again_changes_nothing(world: World) -> None:
    world.gate()
    request_id = world.request_of(world.upload(WHEEL))
    again = world.upload(WHEEL)
    assert "is held" not in again.text  # Warehouse's idempotent re-upload: doomed, 200
    assert list(held(world)) == [WHEEL[0]]
    assert len(world.registry.approvals.get(RequestId(request_id)).subject.files) == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("extra", "status", "reason"),
    [
        ({"sha256_digest": "0" * 64}, 400, "digest supplied does not match"),
        ({"filetype": "bdist_egg"}, 400, "Invalid file type"),
        ({"version": "not a version"}, 400, "Invalid version"),
        ({"dist": ("acme-1.0-py3-none-any.whl", b"not a zip")}, 400, "Invalid distribution file"),
        ({"token": "stolen-but-wrong"}, 403, "Invalid or non-existent authentication"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_held_or_stored(
    world: World, extra: dict[str, Any], status: int, reason: str
) -> None:
    world.gate()
    fields = dict(extra)  # the parameters are shared by the database variants: never mutate them
    answer = world.upload(fields.pop("dist", WHEEL), status=status, **fields)
    assert reason in answer.status
    assert held(world) == {}
    assert list(world.quarantine.rglob("*.whl")) == list(world.files.rglob("*.whl")) == []


def crash(*args: object) -> None:
    raise RuntimeError("the process died here")


def test_a_crash_before_the_request_opens_leaves_the_file_hidden(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.gate()
    monkeypatch.setattr(capture, "open_held", crash)
    answer = world.upload(WHEEL)
    status = world.app.get(urlsplit(status_url_of(answer.text)).path, headers=basic(TOKEN), status=200).json
    assert status["state"] == "opening"  # not open yet; the uploader hears it is coming
    assert held(world)[WHEEL[0]].request_id is None
    assert WHEEL[0] not in world.app.get("/simple/acme/").text
    world.app.get("/pypi/acme/json", status=404)
    monkeypatch.undo()
    # `tpp tick` (cron, or the worker's periodic run) reconciles: it opens the request, and the file
    # stays hidden meanwhile.
    caught_up = tick(registry=world.pyramid)
    assert {key: caught_up[key] for key in ("opened", "published", "purged")} == {
        "opened": 1,
        "published": 0,
        "purged": 0,
    }
    request_id = held(world)[WHEEL[0]].request_id
    assert request_id is not None
    assert WHEEL[0] not in world.app.get("/simple/acme/").text
    world.decide(request_id, "lead")
    assert WHEEL[0] in world.app.get("/simple/acme/").text


def test_a_failed_promotion_stays_hidden_until_reconciled(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.gate()
    request_id = world.request_of(world.upload(WHEEL))
    monkeypatch.setattr(warehouse, "finish", crash)
    world.decide(request_id, "lead")
    assert held(world)[WHEEL[0]].state == PUBLISHING
    assert WHEEL[0] not in world.app.get("/simple/acme/").text
    monkeypatch.undo()
    assert warehouse.reconcile(world.pyramid) == {"opened": 0, "published": 1, "purged": 0}
    assert WHEEL[0] in world.app.get("/simple/acme/").text
    assert world.registry.session.scalars(select(HeldReleaseRecord)).all() == []
