"""TPP's jobs (Web Push sends) run in the housekeeper thread, not in devpi's request threads.

devpi holds its one keyfs write lock until a POST returns, and TPP's in-process queue would send
pushes over the network right after the decision commits, still inside that request; every upload
on the server would wait for the push services. So, without Redis, the queue commits and hands the
jobs to the housekeeper (:mod:`.reconcile`). With ``tpp.redis_url`` rq's workers run them anyway.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from typing import Any

from tpp_warehouse.job_queue import InProcessQueue, Job

__all__ = ["HousekeeperQueue", "install"]


class HousekeeperQueue:
    """An in-process queue whose jobs wait for the housekeeper thread."""

    def __init__(self, inner: InProcessQueue, wake: Any) -> None:
        self._inner = inner
        self._wake = wake
        self._waiting: queue.SimpleQueue[Sequence[Job]] = queue.SimpleQueue()

    def submit(self, jobs: Sequence[Job], commit: Callable[[], None]) -> None:
        """Commit, then leave the jobs for :meth:`run_waiting` (the housekeeper)."""
        commit()
        if jobs:
            self._waiting.put(tuple(jobs))
            self._wake.set()

    def run_waiting(self) -> None:
        """Run every waiting job here, in order, as the in-process queue would have."""
        while not self._waiting.empty():
            self._inner.submit(self._waiting.get(), commit=lambda: None)

    def __getattr__(self, name: str) -> Any:
        # The rest of the queue's interface (retries, closing) is the in-process queue's own.
        return getattr(self._inner, name)


def install(registry: Any, wake: Any) -> HousekeeperQueue | None:
    """Put a HousekeeperQueue in front of TPP's in-process queue; None if rq's workers run the jobs."""
    inner = registry["tpp.queue"]
    if not isinstance(inner, InProcessQueue):
        return None
    registry["tpp.queue"] = deferred = HousekeeperQueue(inner, wake)
    return deferred
