"""Where jobs run: on rq workers through Redis (``tpp.redis_url``, :mod:`.redis_queue`), or in this
process after commit.

Both queues take the same job functions (module-level, in :mod:`.tasks`, named by dotted path) with
the same plain arguments, so a registry behaves the same with or without Redis; only where and
when the job runs differs. Without ``tpp.redis_url`` neither redis nor rq is imported.

Usage::

    queue = make_queue(registry)                  # includeme keeps it as registry["tpp.queue"]
    jobs = [Job("tpp_warehouse.tasks.send_pushes", ([(7, 3)], 0), "1 push message(s), attempt 1")]
    queue.submit(jobs, commit=transaction.commit) # rq: enqueue, then commit; in-process: commit, then run
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from pyramid.path import DottedNameResolver

from .settings import TPPSettings

__all__ = ["InProcessQueue", "Job", "JobQueue", "includeme", "make_queue"]

log = logging.getLogger(__name__)


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


def make_queue(registry: Any) -> JobQueue:
    """A :class:`~.redis_queue.RedisQueue` if ``tpp.redis_url`` is set, else an :class:`InProcessQueue`."""
    settings: TPPSettings = registry["tpp.settings"]
    if settings.redis_url is None:
        return InProcessQueue(registry)
    from .redis_queue import RedisQueue  # redis and rq load only in a registry that uses them

    return RedisQueue.connect(settings, settings.redis_url)


def includeme(config: Any) -> None:
    config.registry["tpp.queue"] = make_queue(config.registry)


def __dir__() -> list[str]:
    return __all__
