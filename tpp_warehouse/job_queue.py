"""Where jobs run: on rq workers through Redis (``tpp.redis_url``), or in this process after commit.

Both queues take the same job functions (module-level, in :mod:`.tasks`, named by dotted path) with
the same plain arguments, so a registry behaves the same with or without Redis; only where and
when the job runs differs.

Usage::

    queue = make_queue(registry)                  # includeme keeps it as registry["tpp.queue"]
    jobs = [Job("tpp_warehouse.tasks.send_pushes", ([(7, 3)], 0), "1 push message(s), attempt 1")]
    queue.submit(jobs, commit=transaction.commit) # rq: enqueue, then commit; in-process: commit, then run
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, NamedTuple, Protocol

from pyramid.path import DottedNameResolver
from redis import Redis
from rq import Queue, SimpleWorker

from .settings import TPPSettings

__all__ = ["JOB_TIMEOUT", "InProcessQueue", "Job", "JobQueue", "RedisQueue", "Worker", "includeme", "make_queue"]

log = logging.getLogger(__name__)

#: Seconds a job may run before rq stops it: a push call waits at most 10 s for its push service.
JOB_TIMEOUT = 60

#: How long rq keeps what became of a job: an hour for results, a week to look into failures.
_KEEP: dict[str, Any] = {"result_ttl": 3600, "failure_ttl": 7 * 24 * 3600}


class Job(NamedTuple):
    """A call of a job function: its dotted name, plain arguments, and a description for logs.

    rq gives each job a random id: ids made from database rows would collide between databases
    (or test runs) sharing one Redis.
    """

    func: str
    args: tuple[Any, ...]
    description: str


class JobQueue(Protocol):
    """What dispatching needs from a queue."""

    def submit(self, jobs: Sequence[Job], commit: Callable[[], None]) -> None:
        """Queue ``jobs`` and call ``commit`` (the transaction that decided them), in the safe order."""

    def retry(self, job: Job, attempt: int) -> bool:
        """Run ``job`` again after the wait for ``attempt`` (0 for the first retry) of
        ``tpp.push.retry_intervals``; False if there is no retry left, or no worker to run it."""

    def close(self) -> None:
        """Let go of connections (Redis), when the app shuts down."""


class RedisQueue:
    """rq on Redis: a worker (``tpp worker``) runs the jobs; retries wait ``tpp.push.retry_intervals``."""

    def __init__(self, settings: TPPSettings, connection: Redis) -> None:
        self.queue = Queue(settings.queue_name, connection=connection, default_timeout=JOB_TIMEOUT)
        self._intervals = [int(i.total_seconds()) for i in settings.push_retry_intervals]

    def submit(self, jobs: Sequence[Job], commit: Callable[[], None]) -> None:
        """Enqueue first: if Redis is down nothing commits, and the jobs are decided again later."""
        with self.queue.connection.pipeline() as pipeline:
            for job in jobs:
                self.queue.enqueue_call(
                    job.func, args=job.args, description=job.description, pipeline=pipeline, **_KEEP
                )
            pipeline.execute()
        commit()

    def retry(self, job: Job, attempt: int) -> bool:
        if attempt >= len(self._intervals):
            return False
        delay = self._intervals[attempt]
        options: dict[str, Any] = {"args": job.args, "description": job.description, **_KEEP}
        if delay:  # rq's scheduler (in `tpp worker`) enqueues it when it is due
            self.queue.enqueue_in(timedelta(seconds=delay), job.func, **options)
        else:
            self.queue.enqueue_call(job.func, **options)
        return True

    def close(self) -> None:
        self.queue.connection.close()


class InProcessQueue:
    """The embedded default: jobs run here, in order, once their transaction committed.

    There is no worker to retry later, so a job that fails is logged and dropped.
    """

    def __init__(self, registry: Any) -> None:
        self._registry = registry

    def submit(self, jobs: Sequence[Job], commit: Callable[[], None]) -> None:
        """Commit first: the jobs read (and may write) what the transaction wrote."""
        commit()
        for job in jobs:
            try:
                DottedNameResolver().resolve(job.func)(*job.args, registry=self._registry)
            except Exception:  # one failed job must not stop the others, nor the caller's response
                log.exception("%s failed; without tpp.redis_url it is not retried", job.description)

    def retry(self, job: Job, attempt: int) -> bool:
        """No worker would run it later: the caller logs what could not be sent."""
        return False

    def close(self) -> None:
        """Nothing to let go of."""


class Worker(SimpleWorker):
    """What ``tpp worker`` runs: rq's simple worker (a push job is a short HTTP call, cheaper than the
    fork rq's default worker makes for each job), listening for rq's commands in one-second waits.

    rq's worker waits up to 60 s at a time on its command channel, and redis-py 8 joins that wait
    when the worker stops: a burst worker (``--burst``) could take a minute to return after its
    last job.
    """

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # rq types it None
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def make_queue(registry: Any) -> JobQueue:
    """A :class:`RedisQueue` if ``tpp.redis_url`` is set, else an :class:`InProcessQueue`."""
    settings: TPPSettings = registry["tpp.settings"]
    if settings.redis_url is None:
        return InProcessQueue(registry)
    return RedisQueue(settings, Redis.from_url(settings.redis_url))


def includeme(config: Any) -> None:
    config.registry["tpp.queue"] = make_queue(config.registry)


def __dir__() -> list[str]:
    return __all__
