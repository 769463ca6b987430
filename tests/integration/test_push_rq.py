"""Web Push through rq on a real Redis, run by burst workers: delivery, retries, cleanup, expiry and
reminders as scheduled jobs, and what happens when Redis is down. Every test has its own queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tests.common.notifications import listen, pushed, vapid_settings
from tests.common.push_service import LoopbackPushService
from tests.common.registry import Registry
from tests.common.scenario import brief_policy, wheel
from tests.common.services import REDIS_URL
from tests.common.webapp import WebHost, make_app, write_ini
from tpp_core import RequestId, RequestState
from tpp_warehouse import redis_queue
from tpp_warehouse.cli import main
from tpp_warehouse.models import DeviceRecord, NotificationRecord
from tpp_warehouse.tasks import configure, tick

pytestmark = pytest.mark.service

APPROVERS = ("lead", "cora", "bob", "dave")


class Worker:
    """The app, its rq queue, and a burst worker configured as ``tpp worker`` configures one."""

    def __init__(self, app: Any, connection: Redis, queue_name: str) -> None:
        self.app = app
        self.queue = Queue(queue_name, connection=connection)
        self.connection = connection

    def run(self) -> None:
        """Run every job that is due, retries and scheduled jobs included, then stop."""
        worker = redis_queue.Worker([self.queue], connection=self.connection, name=f"{self.queue.name}-worker")
        worker.work(burst=True, with_scheduler=True)

    def failed(self) -> list[str]:
        return FailedJobRegistry(self.queue.name, connection=self.connection).get_job_ids()

    def finished(self) -> list[str]:
        return FinishedJobRegistry(self.queue.name, connection=self.connection).get_job_ids()


@pytest.fixture
def service() -> Iterator[LoopbackPushService]:
    with LoopbackPushService() as svc:
        yield svc


@pytest.fixture
def host() -> WebHost:
    return WebHost()


@pytest.fixture
def registry(engine: Engine, host: WebHost) -> Iterator[Registry]:
    with Session(engine) as session:
        yield Registry(session, host=host)


@pytest.fixture
def worker(engine: Engine, host: WebHost, tmp_path: Path, redis_connection: Redis, queue_name: str) -> Iterator[Worker]:
    settings = {
        **vapid_settings(tmp_path),
        "tpp.redis_url": REDIS_URL,
        "tpp.queue_name": queue_name,
        # No waiting between attempts: a burst worker runs every retry at once, no sleeping.
        "tpp.push.retry_intervals": "0 0 0",
    }
    app = make_app(engine.url.render_as_string(hide_password=False), host, **settings)
    configure(app.registry)
    yield Worker(app, redis_connection, queue_name)
    configure(None)
    app.registry["tpp.queue"].queue.connection.close()
    app.registry["tpp.engine"].dispose()


def opened(registry: Registry, service: LoopbackPushService, status: int | list[int] = 201) -> RequestId:
    """A release request for the brief's policy; lead's device answers ``status``, the others 201."""
    devices = registry.enrol(*APPROVERS)
    for device in devices:
        registry.session.commit()
        listen(registry.session, device.id, service.subscribe(status=status if device.person == "lead" else 201))
    registry.set_policy(brief_policy())
    # Invitations to the policy's members were written too; these tests are about the request.
    registry.session.execute(update(NotificationRecord).values(delivered_at=registry.now))
    request = registry.upload("acme", "1.0", wheel())
    assert request is not None
    registry.session.commit()
    return request.id


def test_notifications_wait_in_redis_until_a_worker_sends_them(
    registry: Registry, worker: Worker, service: LoopbackPushService
) -> None:
    request_id = opened(registry, service)
    sent = tick(registry.now.isoformat())
    assert sent["pushes"] == 4
    assert len(worker.queue) == 1  # one job carries the four messages
    assert service.deliveries == []  # nothing leaves before a worker runs
    worker.run()
    approval_needed = [p for p in pushed(service) if p["reason"] == "approval-needed"]
    assert [p["request"] for p in approval_needed] == [request_id] * 4
    assert all(d.vapid_ok for d in service.deliveries)
    assert len(worker.finished()) == 1
    assert worker.failed() == []


def test_429_and_5xx_are_retried_until_accepted(
    registry: Registry, worker: Worker, service: LoopbackPushService
) -> None:
    opened(registry, service, status=[500, 429, 201])
    tick(registry.now.isoformat())
    worker.run()
    statuses = sorted(d.status for d in service.deliveries)
    assert statuses == [201] * 4 + [429, 500]
    assert len(worker.finished()) == 3  # the first job, then a retry of lead's message for each failure
    assert worker.failed() == []


def test_a_push_service_that_keeps_failing_ends_in_the_failed_registry(
    registry: Registry, worker: Worker, service: LoopbackPushService
) -> None:
    opened(registry, service, status=503)
    tick(registry.now.isoformat())
    worker.run()
    lead_attempts = [d for d in service.deliveries if d.status == 503]
    assert len(lead_attempts) == 4  # the first try and three retries (tpp.push.retry_intervals)
    [failed] = worker.failed()
    job = worker.queue.fetch_job(failed)
    result = None if job is None else job.latest_result()
    assert result is not None
    assert "PushDeferred: 1 message(s) not accepted after 4 attempt(s)" in str(result.exc_string)


def test_410_removes_the_subscription_without_retrying(
    registry: Registry, worker: Worker, service: LoopbackPushService
) -> None:
    opened(registry, service, status=410)
    tick(registry.now.isoformat())
    worker.run()
    assert sorted(d.status for d in service.deliveries) == [201] * 3 + [410]
    registry.session.expire_all()
    lead = registry.session.scalars(select(DeviceRecord).where(DeviceRecord.person == "lead")).one()
    assert lead.push_subscription is None
    assert worker.failed() == []


def test_expiry_runs_as_a_job_scheduled_in_the_past(
    registry: Registry, worker: Worker, service: LoopbackPushService
) -> None:
    request_id = opened(registry, service)
    tick(registry.now.isoformat())
    worker.run()
    # As rq's scheduler would run a periodic tick: due already, so no waiting.
    late = registry.now + timedelta(days=7)
    worker.queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=1), "tpp_warehouse.tasks.tick", late.isoformat())
    assert len(worker.queue.scheduled_job_registry) == 1
    worker.run()
    registry.session.expire_all()
    assert registry.approvals.get(request_id).state is RequestState.EXPIRED
    assert sorted(p["request"] for p in pushed(service) if p["reason"] == "expired") == [request_id] * 4


def test_reminders_are_sent_once_however_often_tick_runs(
    registry: Registry, worker: Worker, service: LoopbackPushService
) -> None:
    opened(registry, service)
    registry.approve(registry.approvals.waiting_for("lead")[0].id, "lead")  # type: ignore[arg-type]
    registry.session.commit()
    later = (registry.now + timedelta(days=1)).isoformat()
    for _ in range(3):
        worker.queue.enqueue("tpp_warehouse.tasks.tick", later)
    worker.run()
    reminders = [p for p in pushed(service) if p["reason"] == "reminder"]
    assert len(reminders) == 3  # cora, bob and dave, once each
    assert worker.failed() == []


def test_with_redis_down_the_rows_stay_in_the_outbox(
    engine: Engine, host: WebHost, registry: Registry, tmp_path: Path, service: LoopbackPushService
) -> None:
    settings = {**vapid_settings(tmp_path), "tpp.redis_url": "redis://127.0.0.1:1/0"}
    app = make_app(engine.url.render_as_string(hide_password=False), host, **settings)
    try:
        opened(registry, service)
        with pytest.raises(RedisConnectionError):
            tick(registry.now.isoformat(), registry=app.registry)
        registry.session.expire_all()
        undelivered = registry.session.scalars(
            select(NotificationRecord).where(NotificationRecord.delivered_at.is_(None))
        ).all()
        assert {row.person for row in undelivered if row.reason == "approval-needed"} == set(APPROVERS)
    finally:
        app.registry["tpp.queue"].queue.connection.close()
        app.registry["tpp.engine"].dispose()


def test_the_tpp_commands_tick_and_work_through_redis(
    engine: Engine, registry: Registry, tmp_path: Path, service: LoopbackPushService, queue_name: str
) -> None:
    """What an operator runs: ``tpp tick`` queues, ``tpp worker`` sends (here in burst mode)."""
    request_id = opened(registry, service)
    settings = {**vapid_settings(tmp_path), "tpp.redis_url": REDIS_URL, "tpp.queue_name": queue_name}
    config = write_ini(tmp_path, engine.url.render_as_string(hide_password=False), **settings)
    assert main(["tick", str(config), "--at", registry.now.isoformat()]) == 0
    assert service.deliveries == []
    assert main(["worker", str(config), "--burst"]) == 0
    assert [p["request"] for p in pushed(service) if p["reason"] == "approval-needed"] == [request_id] * 4
