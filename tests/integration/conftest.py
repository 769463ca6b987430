"""Integration tests: real services on loopback (Redis here), failing rather than skipping under CI."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue, registry

from tests.common.services import REDIS_URL, require
from tests.warehouse.conftest import host_slot  # noqa: F401 (the Warehouse-shaped host's database, for test_upload_jobs)


def _connect() -> Redis:
    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        connection.ping()
    except Exception:
        connection.close()
        raise
    return connection


@pytest.fixture
def redis_connection() -> Iterator[Redis]:
    """The shared Redis on 127.0.0.1:6379 (or ``TPP_TEST_REDIS``); never flushed, only our keys go."""
    connection = require("Redis", _connect)
    yield connection
    connection.close()


@pytest.fixture
def queue_name(redis_connection: Redis) -> Iterator[str]:
    """A queue name no other test (or developer) uses; its jobs and registries are deleted afterwards."""
    name = f"tpp-test-{secrets.token_hex(6)}"
    yield name
    queue = Queue(name, connection=redis_connection)
    job_ids = set(queue.get_job_ids())
    for kind in ("Canceled", "Deferred", "Failed", "Finished", "Scheduled", "Started"):
        job_ids.update(getattr(registry, f"{kind}JobRegistry")(name, connection=redis_connection).get_job_ids())
    keys = {key for job_id in job_ids for key in redis_connection.scan_iter(match=f"rq:*{job_id}*")}
    keys.update(redis_connection.scan_iter(match=f"rq:*{name}*"))
    # Workers `tpp worker` started are named by rq, not after the queue: find them by their queue.
    # Only hashes are workers: other keys under rq:worker: (of runs beside this one) are not.
    keys.update(
        w
        for w in redis_connection.scan_iter(match="rq:worker:*", _type="HASH")
        if redis_connection.hget(w, "queues") == name.encode()
    )
    if keys:
        redis_connection.delete(*keys)
    redis_connection.srem("rq:queues", f"rq:queue:{name}")
