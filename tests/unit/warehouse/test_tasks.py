"""Notifications end to end without Redis: outbox rows → in-process jobs → pywebpush → the loopback
push service, which checks VAPID and decrypts what a phone would see. Who hears what, reminders and
expiry through ``tick``, and what a gone or failing push service does."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.common.authenticator import SoftAuthenticator
from tests.common.notifications import listen, vapid_settings
from tests.common.push_service import LoopbackPushService, Subscription
from tests.common.registry import ORIGIN, Registry
from tests.common.scenario import brief_policy, wheel
from tests.common.webapp import WebHost, make_app
from tpp_core import PersonId, RequestId, RequestState
from tpp_warehouse.models import AuditRecord, DeviceRecord, NotificationRecord
from tpp_warehouse.tasks import configure, send_pushes, tick

APPROVERS = ("lead", "cora", "bob", "dave")


class World:
    """The service-level registry, the app (for its jobs) and one listening device per person."""

    def __init__(self, registry: Registry, app: Any, service: LoopbackPushService) -> None:
        self.registry = registry
        self.app = app
        self.service = service
        self.listening: dict[str, str] = {}  # subscription token -> person

    def enrol(self, *people: str, status: int | list[int] = 201) -> list[DeviceRecord]:
        devices = self.registry.enrol(*people)
        for person, device in zip(people, devices, strict=True):
            self.listen(person, device.id, self.service.subscribe(status=status))
        return devices

    def listen(self, person: str, device_id: int, subscription: Subscription) -> None:
        self.registry.session.commit()
        listen(self.registry.session, device_id, subscription)
        self.listening[subscription.token] = person

    def tick(self, at: datetime | None = None) -> dict[str, int]:
        self.registry.session.commit()
        return tick((at or self.registry.now).isoformat(), registry=self.app.registry)

    def heard(self, reason: str) -> dict[str, Any]:
        """Person -> the payload they received for ``reason`` (each person once)."""
        heard: dict[str, Any] = {}
        for delivery in self.service.deliveries:
            if delivery.status == 201 and delivery.payload_json()["reason"] == reason:
                person = self.listening[delivery.token or ""]
                assert person not in heard, f"{person} heard {reason} twice"
                heard[person] = delivery.payload_json()
        return heard


@pytest.fixture
def service() -> Iterator[LoopbackPushService]:
    with LoopbackPushService() as svc:
        yield svc


@pytest.fixture
def world(engine: Engine, tmp_path: Path, service: LoopbackPushService) -> Iterator[World]:
    host = WebHost()
    host.owners_of["acme"] = {"lead", "cora", "olga"}
    settings = {**vapid_settings(tmp_path), "tpp.push.ttl": "1h", "tpp.reminder_interval": "24h"}
    app = make_app(engine.url.render_as_string(hide_password=False), host, **settings)
    with Session(engine) as session:
        yield World(Registry(session, host=host), app, service)
    app.registry["tpp.engine"].dispose()


def opened(world: World) -> RequestId:
    world.enrol(*APPROVERS)
    world.registry.set_policy(brief_policy())
    request = world.registry.upload("acme", "1.0", wheel())
    assert request is not None
    return request.id


def test_a_new_request_reaches_each_eligible_approver_as_an_id_and_a_url(world: World) -> None:
    request_id = opened(world)
    world.tick()
    url = f"{ORIGIN}/tpp/requests/{request_id}"
    assert world.heard("approval-needed") == {
        person: {"request": request_id, "reason": "approval-needed", "url": url} for person in APPROVERS
    }
    deliveries = [d for d in world.service.deliveries if d.payload_json()["reason"] == "approval-needed"]
    assert all(d.vapid_ok and d.content_encoding == "aes128gcm" for d in deliveries)
    assert {(d.ttl, d.urgency) for d in deliveries} == {(3600, "high")}
    # One topic per request: a newer message about it replaces one a device has not fetched yet.
    [topic] = {d.topic for d in deliveries}
    assert topic is not None
    assert len(topic) == 32
    before = len(world.service.deliveries)
    assert world.tick()["pushes"] == 0  # each outbox row is sent once
    assert len(world.service.deliveries) == before


def test_an_approval_reaches_everyone_involved_and_the_owners(world: World) -> None:
    request_id = opened(world)
    world.enrol("ci", "olga", "zed")  # the uploader, an owner who is no approver, a bystander
    world.tick()
    for person in ("lead", "cora", "dave"):
        world.registry.approve(request_id, person)
    world.tick()
    heard = world.heard("approved")
    assert sorted(heard) == sorted([*APPROVERS, "ci", "olga"])
    assert {payload["request"] for payload in heard.values()} == {request_id}
    assert {d.urgency for d in world.service.deliveries if d.payload_json()["reason"] == "approved"} == {"normal"}


def test_a_rejection_reaches_everyone_involved(world: World) -> None:
    request_id = opened(world)
    world.enrol("ci", "olga")
    world.registry.reject(request_id, "bob", "not ours")
    world.tick()
    assert sorted(world.heard("rejected")) == sorted([*APPROVERS, "ci", "olga"])


def test_tick_expires_overdue_requests_and_tells_everyone(world: World) -> None:
    request_id = opened(world)
    world.enrol("ci")
    assert world.tick()["expired"] == 0
    late = world.registry.now + timedelta(days=7)
    assert world.tick(late)["expired"] == 1
    world.registry.session.expire_all()
    assert world.registry.approvals.get(request_id).state is RequestState.EXPIRED
    assert [purge.request_id for purge in world.registry.host.purged] == [request_id]
    assert sorted(world.heard("expired")) == sorted([*APPROVERS, "ci"])
    assert world.tick(late) == {"expired": 0, "reminded": 0, "pushes": 0}  # nothing happens twice


def test_a_new_device_tells_the_persons_other_devices_only(world: World) -> None:
    [phone] = world.enrol("ann")
    world.tick()
    registration, vouch = world.registry.devices.begin_enrolment(PersonId("ann"), world.registry.now)
    assert vouch is not None
    laptop = SoftAuthenticator()
    created = json.dumps(laptop.create(json.loads(registration.options), ORIGIN))
    vouched = json.dumps(world.registry.authenticators["ann"].get(json.loads(vouch.options), ORIGIN))
    second = world.registry.devices.finish_enrolment(
        PersonId("ann"), "laptop", (registration.id, created), (vouch.id, vouched), world.registry.now
    )
    world.listen("ann-laptop", second.id, world.service.subscribe())  # even if it listened at once
    world.tick()
    assert world.heard("device-enrolled") == {
        "ann": {"device": str(second.id), "reason": "device-enrolled", "url": f"{ORIGIN}/tpp/devices"}
    }
    assert phone.id != second.id


def test_a_policy_change_reaches_the_current_approvers(world: World) -> None:
    world.enrol(*APPROVERS, "ci")
    world.registry.set_policy(brief_policy())
    world.tick()
    change = world.registry.policies.propose(PersonId("lead"), brief_policy(version=2), world.registry.now)
    world.tick()
    heard = world.heard("approval-needed")
    assert sorted(heard) == sorted(APPROVERS)
    assert {payload["request"] for payload in heard.values()} == {change}


def test_reminders_go_once_per_interval_to_those_who_have_not_answered(world: World) -> None:
    request_id = opened(world)
    start = world.registry.now
    assert world.tick()["reminded"] == 0
    world.registry.approve(request_id, "lead")
    assert world.tick(start + timedelta(hours=23, minutes=59))["reminded"] == 0
    assert world.tick(start + timedelta(hours=24))["reminded"] == 3
    assert world.tick(start + timedelta(hours=24))["reminded"] == 0  # a second tick at once adds nothing
    assert world.tick(start + timedelta(hours=47))["reminded"] == 0
    assert sorted(world.heard("reminder")) == ["bob", "cora", "dave"]
    assert world.tick(start + timedelta(hours=48))["reminded"] == 3
    assert world.tick(start + timedelta(days=7))["reminded"] == 0  # due to expire instead
    reminders = world.registry.session.scalars(
        select(NotificationRecord.person).where(NotificationRecord.reason == "reminder")
    ).all()
    assert sorted(reminders) == sorted(["bob", "cora", "dave"] * 2)


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed_and_audited(world: World, status: int) -> None:
    world.enrol("lead", "cora", "dave")
    [bob] = world.enrol("bob", status=status)
    world.registry.set_policy(brief_policy())
    world.registry.upload("acme", "1.0", wheel())
    world.tick()
    assert sorted(world.heard("approval-needed")) == ["cora", "dave", "lead"]
    world.registry.session.expire_all()
    assert world.registry.session.get(DeviceRecord, bob.id).push_subscription is None  # type: ignore[union-attr]
    gone = world.registry.session.scalars(select(AuditRecord).where(AuditRecord.kind == "tpp:device:push-gone")).one()
    assert (gone.subject, gone.data, gone.actor) == (f"device:{bob.id}", {"status": status}, None)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_without_redis_a_failing_push_service_is_logged_and_not_retried(
    world: World, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    [lead] = world.enrol("lead", status=status)
    world.enrol("cora", "bob", "dave")
    world.registry.set_policy(brief_policy())
    world.registry.upload("acme", "1.0", wheel())
    with caplog.at_level(logging.ERROR, logger="tpp_warehouse.job_queue"):
        world.tick()
    assert sorted(world.heard("approval-needed")) == ["bob", "cora", "dave"]
    assert [d.status for d in world.service.deliveries if d.status != 201] == [status]
    assert "without tpp.redis_url it is not retried" in caplog.text
    world.registry.session.expire_all()
    assert world.registry.session.get(DeviceRecord, lead.id).push_subscription is not None  # type: ignore[union-attr]


def test_a_refused_message_is_logged_and_the_subscription_kept(world: World, caplog: pytest.LogCaptureFixture) -> None:
    [lead] = world.registry.enrol("lead")
    # Bound to another VAPID key, as a browser subscription made with an old key would be: 403.
    world.listen("lead", lead.id, world.service.subscribe(application_server_key="B" * 87))
    world.registry.session.add(
        NotificationRecord(person="lead", subject="request:r1", reason="approval-needed", created_at=world.registry.now)
    )
    with caplog.at_level(logging.ERROR, logger="tpp_warehouse.tasks"):
        world.tick()
    assert [d.status for d in world.service.deliveries] == [403]
    assert "refused, not retried: push service answered 403" in caplog.text
    world.registry.session.expire_all()
    assert world.registry.session.get(DeviceRecord, lead.id).push_subscription is not None  # type: ignore[union-attr]


def test_a_job_for_a_device_removed_since_is_skipped(world: World) -> None:
    [lead] = world.enrol("lead")
    row = NotificationRecord(
        person="lead", subject="request:r1", reason="approval-needed", created_at=world.registry.now
    )
    world.registry.session.add(row)
    world.registry.devices.remove(PersonId("lead"), lead.id, world.registry.now)
    world.registry.session.commit()
    assert send_pushes([(row.id, lead.id)], registry=world.app.registry) == "nothing to send"
    assert world.service.deliveries == []


def test_without_a_vapid_key_nothing_is_sent(engine: Engine, service: LoopbackPushService) -> None:
    app = make_app(engine.url.render_as_string(hide_password=False), WebHost())
    try:
        assert send_pushes([(1, 1)], registry=app.registry) == "skipped: Web Push is off (no tpp.vapid.private_key)"
    finally:
        app.registry["tpp.engine"].dispose()


def test_jobs_outside_a_configured_worker_say_how_to_run_them() -> None:
    with pytest.raises(RuntimeError, match=r"run the worker with `tpp worker CONFIG\.ini`"):
        tick()
    with pytest.raises(ValueError, match="needs a timezone"):
        tick("2026-01-01T12:00:00", registry=object())
    configure(None)
