"""The push part of journey J1: an upload to a ``tpp`` index reaches the approvers' devices as a Web
Push message that the loopback push service accepts (VAPID) and decrypts, naming only the request and
its page (I9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.common.devpi import Browser, DevpiServer, wheel
from tests.common.notifications import listen
from tests.common.push_service import LoopbackPushService
from tests.common.scenario import group
from tpp_core import Policy, Scope
from tpp_warehouse.vapid import generate

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def vapid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The registry's VAPID key file and its public key (what pages give pushManager.subscribe)."""
    return generate(tmp_path_factory.mktemp("vapid"))


@pytest.fixture(scope="module")
def server_options(vapid: tuple[Path, str]) -> tuple[str, ...]:
    return ("--tpp-vapid-private-key", str(vapid[0]), "--tpp-vapid-subject", "mailto:ops@example.org")


@pytest.fixture(scope="module")
def push_service() -> Iterator[LoopbackPushService]:
    with LoopbackPushService() as service:
        yield service


def test_the_approvers_devices_are_told(
    server: DevpiServer,
    people: dict[str, Browser],
    push_service: LoopbackPushService,
    vapid: tuple[Path, str],
    dist: Path,
) -> None:
    tokens = {}
    with Session(server.engine) as session:
        for name in ("alice", "bob"):
            subscription = push_service.subscribe(application_server_key=vapid[1])
            device = people[name].device
            assert device is not None
            listen(session, device, subscription)  # the page accepts https push services only
            tokens[subscription.token] = name
    server.set_policy(Policy(scope=Scope.project("pushed"), version=1, groups=(group("g", "alice", "bob"),)), "alice")

    assert server.twine_upload("alice", "rel", wheel(dist, "pushed", "1.0")).returncode == 0
    request = server.request_for("pushed", "1.0")

    deliveries = push_service.wait_for(2, timeout=15)
    assert {tokens[d.token or ""] for d in deliveries} == {"alice", "bob"}
    for delivery in deliveries:
        assert (delivery.status, delivery.vapid_ok, delivery.error) == (201, True, None)
        assert delivery.payload_json() == {
            "request": request.id,
            "reason": "approval-needed",
            "url": f"{server.url}/+tpp/requests/{request.id}",
        }
