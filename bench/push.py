"""Web Push fan-out: encrypted messages per second for one rq worker. Bar: >= 300 messages/s.

Run with ``python bench/push.py`` (``--messages N``, ``--redis URL``) from the repository root, with
Redis on 127.0.0.1:6379 (or ``TPP_TEST_REDIS``). The loopback push service runs in a process of its
own, as a real push service would, and checks the VAPID signature and decrypts every message. The
script writes N outbox rows for N people with one listening device each, queues their push jobs on
a queue of its own, then times one burst worker (the ``tpp worker`` kind) sending them all: each job
reads its row and device from SQLite, encrypts (aes128gcm), signs a fresh VAPID token and posts.
It prints the rate and its ratio to the bar, and exits non-zero if the rate misses the bar.
"""

from __future__ import annotations

import argparse
import multiprocessing
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker

from tpp_warehouse.db import make_engine
from tpp_warehouse.delivery import dispatch
from tpp_warehouse.migrate import upgrade
from tpp_warehouse.models import DeviceRecord, NotificationRecord
from tpp_warehouse.tasks import configure

# The loopback push service and test host live with the tests; the repository root is not on the
# path when the script runs as ``python bench/push.py``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.common.notifications import vapid_settings
from tests.common.push_service import LoopbackPushService
from tests.common.services import REDIS_URL
from tests.common.webapp import WebHost, make_app

BAR = 300.0


def push_service(messages: int, pipe: Connection) -> None:
    """The loopback push service, in its own process: hands out subscriptions, then reports."""
    with LoopbackPushService() as service:
        pipe.send([service.subscribe().info for _ in range(messages)])
        pipe.recv()  # the benchmark is done
        accepted = [d for d in service.deliveries if d.status == 201 and d.vapid_ok and d.payload is not None]
        pipe.send((len(service.deliveries), len(accepted)))


def prepare(url: str, subscriptions: list[dict[str, Any]], at: datetime) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for n, info in enumerate(subscriptions):
            person = f"person{n:05}"
            device = connection.execute(
                DeviceRecord.__table__.insert().returning(DeviceRecord.__table__.c.id),
                {
                    "person": person,
                    "name": "phone",
                    "credential_id": secrets.token_bytes(16),
                    "public_key": b"unused",
                    "sign_count": 0,
                    "enrolled_at": at,
                    "enrolment": "bootstrap",
                    "push_subscription": info,
                },
            )
            assert device.scalar_one()
            connection.execute(
                NotificationRecord.__table__.insert(),
                {"person": person, "subject": f"request:r{n}", "reason": "approval-needed", "created_at": at},
            )
    engine.dispose()


def cleanup(connection: Redis, name: str) -> None:
    """Delete this run's keys only; the Redis is shared."""
    keys = set(connection.scan_iter(match=f"rq:*{name}*"))
    for registry in ("finished", "failed"):
        for job_id in connection.zrange(f"rq:{registry}:{name}", 0, -1):
            keys.update(connection.scan_iter(match=f"rq:*{job_id.decode()}*"))
    if keys:
        connection.delete(*keys)
    connection.srem("rq:queues", f"rq:queue:{name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages to send (default 1000)")
    parser.add_argument("--redis", default=REDIS_URL, help=f"Redis URL (default {REDIS_URL})")
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    service = multiprocessing.Process(target=push_service, args=(args.messages, theirs), daemon=True)
    service.start()
    subscriptions = ours.recv()
    queue_name = f"tpp-bench-{secrets.token_hex(4)}"
    connection = Redis.from_url(args.redis)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'tpp.sqlite'}"
        upgrade(url)
        prepare(url, subscriptions, datetime.now(UTC))
        settings = {**vapid_settings(Path(directory)), "tpp.redis_url": args.redis, "tpp.queue_name": queue_name}
        app = make_app(url, WebHost(), **settings)
        try:
            configure(app.registry)
            queued = dispatch(app.registry)
            queue = Queue(queue_name, connection=connection)
            worker = SimpleWorker([queue], connection=connection, name=f"{queue_name}-worker")
            started = time.perf_counter()
            worker.work(burst=True, logging_level="WARNING")
            elapsed = time.perf_counter() - started
        finally:
            app.registry["tpp.queue"].close()
            app.registry["tpp.engine"].dispose()
            cleanup(connection, queue_name)
            connection.close()
    ours.send("done")
    received, accepted = ours.recv()
    service.join()
    rate = accepted / elapsed
    print(f"push fan-out: {queued} messages queued, one worker, {received} received, {accepted} decrypted and accepted")
    print(f"elapsed: {elapsed:.2f} s")
    verdict = "PASS" if rate >= BAR else "FAIL"
    print(f"messages/s: {rate:.0f}  ratio to bar: {rate / BAR:.2f} (bar {BAR:.0f}/s) -> {verdict}")
    return 0 if rate >= BAR and accepted == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
