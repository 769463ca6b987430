"""From the outbox to devices: each undelivered row becomes one push job per device that listens.

A change writes its outbox rows in its own transaction (:mod:`.notifications`); once that commits,
:func:`dispatch` claims the rows (sets ``delivered_at``, so each is sent once even when two
dispatchers race) and submits :func:`~.tasks.send_pushes` jobs for its (row, device) pairs.
Web requests dispatch from a transaction after-commit hook; ``tpp tick`` dispatches whatever is
left (rows written outside a web request, or claimed by a dispatch that failed and rolled back).

What a message says is decided by :func:`message`: the request (or device) id, why, and the URL of
the page that shows the facts (I9). Never the project, files or decision: a push carries no authority.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.events import NewRequest
from pyramid_tm import is_tm_active
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tpp_core import IClock

from .job_queue import Job
from .models import DeviceRecord, NotificationRecord
from .notifications import OUTBOX_WRITTEN
from .scripting import scripted
from .settings import TPPSettings

__all__ = ["Message", "Pair", "claim", "dispatch", "includeme", "message", "push_jobs"]

log = logging.getLogger(__name__)

#: Reasons an approver is asked to act: sent with high urgency, so a phone wakes up for them.
_URGENT = frozenset({"approval-needed", "reminder"})

#: The job that sends messages (named, not imported: tasks imports this module).
SEND_PUSHES = "tpp_warehouse.tasks.send_pushes"

#: Messages per job: enough to keep a worker's senders busy, few enough to spread over workers.
_PER_JOB = 50

#: Rows claimed per transaction, so one dispatch never holds a huge transaction open.
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Message:
    """One push message: the JSON payload, and the Urgency and Topic headers it is sent with."""

    payload: dict[str, str]
    urgency: str
    topic: str


def message(row: NotificationRecord, settings: TPPSettings) -> Message:
    """The message for an outbox row: ``{kind: id, "reason", "url"}``, the kind and id being its
    subject's (``"request:ab12"`` gives ``{"request": "ab12", …}``).

    The URL is absolute, on the first of ``tpp.webauthn.origin``: the origin the pages (and the
    service worker) are served from. The topic is the same for every message about one subject,
    so a device that was offline gets only the newest.
    """
    kind, _, ident = row.subject.partition(":")
    base = settings.origins[0] + settings.route_prefix
    # A request's own page; the devices page for a device; the "waiting for you" page otherwise
    # (an invitation is answered there).
    url = {"request": f"{base}/requests/{ident}", "device": f"{base}/devices"}.get(kind, f"{base}/requests")
    # RFC 8030 topics are at most 32 characters of the base64url alphabet; a digest always fits.
    topic = hashlib.sha256(row.subject.encode()).hexdigest()[:32]
    return Message(
        payload={kind: ident, "reason": row.reason, "url": url},
        urgency="high" if row.reason in _URGENT else "normal",
        topic=topic,
    )


#: What claiming an outbox row needs of it.
_CLAIMED = (NotificationRecord.id, NotificationRecord.person, NotificationRecord.subject, NotificationRecord.reason)

#: A (outbox row id, device id) pair: one message to send.
Pair = tuple[int, int]


def claim(session: Session, at: datetime) -> tuple[list[Pair], bool]:
    """Mark up to a batch of undelivered rows delivered at ``at``; return the (row, device) pairs
    to send, and whether there may be more rows (the batch was full).

    A row whose person has no device with a push subscription is claimed with no pair: nobody can
    hear it. A device is not told about its own enrolment.
    """
    ids = session.scalars(
        select(NotificationRecord.id)
        .where(NotificationRecord.delivered_at.is_(None))
        .order_by(NotificationRecord.id)
        .limit(_BATCH)
    ).all()
    if not ids:
        return [], False
    # Conditional: the rows a concurrent dispatcher claimed first are not returned here.
    won = session.execute(
        update(NotificationRecord)
        .where(NotificationRecord.id.in_(ids), NotificationRecord.delivered_at.is_(None))
        .values(delivered_at=at)
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    ).all()
    listening: dict[str, list[DeviceRecord]] = {}
    for device in session.scalars(
        select(DeviceRecord).where(DeviceRecord.person.in_({row.person for row in won})).order_by(DeviceRecord.id)
    ):
        # Tested here, not in SQL: the JSON column stores "no subscription" as JSON null, not NULL.
        if device.push_subscription is not None:
            listening.setdefault(device.person, []).append(device)
    pairs: list[Pair] = []
    for row in sorted(won):
        enrolled = int(row.subject.removeprefix("device:")) if row.reason == "device-enrolled" else None
        pairs.extend((row.id, device.id) for device in listening.get(row.person, ()) if device.id != enrolled)
    return pairs, len(ids) == _BATCH


def push_jobs(pairs: list[Pair], attempt: int = 0) -> list[Job]:
    """The :func:`~.tasks.send_pushes` jobs for ``pairs``, a few dozen messages each.

    A job per message would spend more time in rq's bookkeeping (some 70 Redis commands) than
    in sending; a job per chunk lets the worker send its messages concurrently.
    """
    chunks = [pairs[i : i + _PER_JOB] for i in range(0, len(pairs), _PER_JOB)]
    return [
        Job(SEND_PUSHES, (chunk, attempt), f"{len(chunk)} push message(s), attempt {attempt + 1}") for chunk in chunks
    ]


def dispatch(registry: Any, at: datetime | None = None) -> int:
    """Claim every undelivered row and submit its push jobs; returns how many messages they carry.

    Runs in its own transactions (one per batch of rows), so call it after the change committed.
    """
    total, more = 0, True
    while more:
        with scripted(registry) as request:
            pairs, more = claim(request.tpp_db, at or request.find_service(IClock, context=None).now())
            registry["tpp.queue"].submit(push_jobs(pairs), commit=request.tm.commit)
        total += len(pairs)
    return total


def _after_commit(succeeded: bool, request: Any) -> None:
    session = request.__dict__.get("tpp_db")  # reified: present only if the request used it
    if not succeeded or session is None or not session.info.pop(OUTBOX_WRITTEN, False):
        return
    try:
        dispatch(request.registry)
    except Exception:  # the change is committed; a failure here only delays its notifications
        log.exception("could not dispatch notifications; `tpp tick` will send them")


def _watch(event: Any) -> None:
    # Every request, not only TPP's pages: the host's upload view opens requests too. A request
    # that pyramid_tm leaves out (its tm.activate_hook) is skipped: asking a thread-local manager
    # for its transaction would begin one that nothing ever ends, holding the request.
    if is_tm_active(event.request):
        event.request.tm.get().addAfterCommitHook(_after_commit, args=(event.request,))


def includeme(config: Any) -> None:
    config.add_subscriber(_watch, NewRequest)


def __dir__() -> list[str]:
    return __all__
