"""TPP's jobs: module-level functions taking plain ids, run by an rq worker or in-process.

An rq worker started by ``tpp worker`` calls :func:`configure` with the registry of the app its
``.ini`` file describes, and each job opens its own transaction on that app's services
(:func:`~.scripting.scripted`). The in-process queue passes its registry to the same functions.

Usage::

    send_pushes([(row_id, device_id), …])      # outbox rows to devices
    tick()                                      # expire, remind, dispatch; what ``tpp tick`` runs
    tick("2026-11-25T12:00:00+00:00")           # as of a given time (tests, catching up)
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tpp_core import IClock

from .delivery import Message, Pair, dispatch, message, push_jobs
from .interfaces import IApprovalService, IDeviceService
from .models import DeviceRecord, NotificationRecord
from .push import PushDeferred, PushError, PushRefused, SubscriptionGone, connections, send
from .reminders import remind
from .scripting import scripted
from .settings import TPPSettings
from .vapid import load

__all__ = ["HOUSEKEEPING", "configure", "job_registry", "send_pushes", "tick"]

log = logging.getLogger(__name__)

_configured: Any = None

#: Messages a worker sends at once; each mostly waits for its push service to answer.
_SENDERS = 8


def configure(registry: Any) -> None:
    """Make ``registry`` (a configured app's) the one jobs run against in this process."""
    global _configured
    _configured = registry


def job_registry(registry: Any) -> Any:
    """The registry a job runs against: the one it was given (the in-process queue gives its own),
    else the one :func:`configure` set (an rq worker)."""
    if registry is not None:
        return registry
    if _configured is None:
        raise RuntimeError("TPP's jobs need the registry's settings: run the worker with `tpp worker CONFIG.ini`")
    return _configured


def send_pushes(pairs: list[Pair], attempt: int = 0, *, registry: Any = None) -> str:
    """Send outbox rows to devices, given as (row id, device id) pairs; returns what happened.

    The messages are sent concurrently (they wait on push services, not on this process). A
    subscription its push service calls gone (404, 410) is removed from the device. Those that met
    a 429, a 5xx or a network error go into a new job that runs after the next of
    ``tpp.push.retry_intervals``; once there is none left, this raises
    :class:`~.push.PushDeferred` so the job lands in rq's failed registry. Any other refusal is
    logged and not retried: the same request would be refused again.
    """
    registry = job_registry(registry)
    settings: TPPSettings = registry["tpp.settings"]
    if settings.vapid_private_key is None or settings.vapid_subject is None:
        return "skipped: Web Push is off (no tpp.vapid.private_key)"
    key, subject = load(settings.vapid_private_key), settings.vapid_subject
    ttl = int(settings.push_ttl.total_seconds())
    with scripted(registry) as request:
        messages = [(pair, *found) for pair in pairs if (found := _message(request.tpp_db, pair, settings))]

    def attempt_one(item: tuple[Pair, dict[str, Any], Message]) -> PushError | None:
        _pair, subscription, push = item
        try:
            send(
                subscription,
                push.payload,
                key=key,
                subject=subject,
                ttl=ttl,
                urgency=push.urgency,
                topic=push.topic,
                http=http,
            )
        except PushError as error:
            return error
        return None

    # Outside any transaction: a push service may take seconds to answer.
    with connections() as http, ThreadPoolExecutor(max_workers=_SENDERS) as senders:
        outcomes = list(zip(messages, senders.map(attempt_one, messages), strict=True))
    gone = [(item, error) for item, error in outcomes if isinstance(error, SubscriptionGone)]
    deferred = [item[0] for item, error in outcomes if isinstance(error, PushDeferred)]
    for (pair, _subscription, _push), error in outcomes:
        if isinstance(error, PushRefused):
            log.error("push %s to device %s refused, not retried: %s", *pair, error)
    if gone:
        with scripted(registry) as request:
            devices = request.find_service(IDeviceService, context=None)
            at = request.find_service(IClock, context=None).now()
            for (pair, subscription, _push), error in gone:
                devices.forget_subscription(pair[1], subscription, error.status, at)
            request.tm.commit()
    if deferred:
        [retry] = push_jobs(deferred, attempt + 1)
        if not registry["tpp.queue"].retry(retry, attempt):
            raise PushDeferred(f"{len(deferred)} message(s) not accepted after {attempt + 1} attempt(s): {deferred}")
    counts = Counter("sent" if error is None else type(error).__name__ for _item, error in outcomes)
    return ", ".join(f"{name}: {count}" for name, count in sorted(counts.items())) or "nothing to send"


def _message(session: Session, pair: Pair, settings: TPPSettings) -> tuple[dict[str, Any], Message] | None:
    """The device's subscription and the row's message, or None if either is gone since."""
    row = session.get(NotificationRecord, pair[0])
    device = session.get(DeviceRecord, pair[1])
    if row is None or device is None or device.push_subscription is None or device.person != row.person:
        return None
    return dict(device.push_subscription), message(row, settings)


#: Registry key of the host integration's catch-up tasks (``task(registry) -> counts``), which
#: :func:`tick` runs first: e.g. opening requests for uploads whose request a crash prevented.
HOUSEKEEPING = "tpp.housekeeping"


def tick(at: str | None = None, *, registry: Any = None) -> dict[str, int]:
    """Run the host's housekeeping, expire overdue requests, write due reminders, then dispatch
    every undelivered notification.

    ``at`` (ISO 8601 with a timezone) is the time to act as of; None is the registry's
    :class:`~tpp_core.IClock` now. Safe to run as often as wanted, and twice at once: expiry and
    reminders each happen once.
    """
    registry = job_registry(registry)
    given = None if at is None else datetime.fromisoformat(at)
    if given is not None and given.tzinfo is None:
        raise ValueError(f"the time to act as of needs a timezone, got {at!r}")
    caught_up: dict[str, int] = {}
    for task in registry.get(HOUSEKEEPING, ()):
        caught_up.update(task(registry))
    with scripted(registry) as request:
        now = request.find_service(IClock, context=None).now() if given is None else given
        expired = request.find_service(IApprovalService, context=None).expire_overdue(now)
        reminded = remind(request.tpp_db, now, registry["tpp.settings"].reminder_interval)
        request.tm.commit()
    return {**caught_up, "expired": expired, "reminded": reminded, "pushes": dispatch(registry, now)}


def __dir__() -> list[str]:
    return __all__
