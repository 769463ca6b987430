"""rq on Redis: the job queue of a registry with ``tpp.redis_url``, and what ``tpp worker`` runs.

:func:`.job_queue.make_queue` imports this module only when ``tpp.redis_url`` is set, so a registry
without Redis never loads redis or rq.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker

from .job_queue import Job
from .settings import TPPSettings

__all__ = ["JOB_TIMEOUT", "RedisQueue", "Worker"]

#: Seconds a job may run before rq stops it: a push call waits at most 10 s for its push service.
JOB_TIMEOUT = 60

#: How long rq keeps what became of a job: an hour for results, a week to look into failures.
_KEEP: dict[str, Any] = {"result_ttl": 3600, "failure_ttl": 7 * 24 * 3600}


class RedisQueue:
    """rq on Redis: a worker (``tpp worker``) runs the jobs; retries wait ``tpp.push.retry_intervals``."""

    def __init__(self, settings: TPPSettings, connection: Redis) -> None:
        self.queue = Queue(settings.queue_name, connection=connection, default_timeout=JOB_TIMEOUT)
        self._intervals = [int(i.total_seconds()) for i in settings.push_retry_intervals]

    @classmethod
    def connect(cls, settings: TPPSettings, url: str) -> RedisQueue:
        """The queue on the Redis at ``url`` (redis-py connects at the first command)."""
        return cls(settings, Redis.from_url(url))

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


def __dir__() -> list[str]:
    return __all__
