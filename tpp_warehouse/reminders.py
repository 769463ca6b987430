"""Reminders: an approver who has not answered a verifying request is told again, once per interval.

The outbox is the memory: a reminder is due for a person when the newest "approval-needed" or
"reminder" row about the request is at least ``tpp.reminder_interval`` old. A reminder writes such
a row, so running :func:`remind` twice at the same time (two ``tpp tick`` runs) sends one.

Usage::

    remind(session, now, timedelta(hours=24))   # -> how many reminders were written
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import serialize
from .models import NotificationRecord
from .notifications import Outbox
from .request_store import RequestStore

__all__ = ["REMINDER", "remind"]

#: The outbox reason of a reminder.
REMINDER = "reminder"

_ASKED = ("approval-needed", REMINDER)


def remind(session: Session, at: datetime, interval: timedelta) -> int:
    """Write a reminder for each person a verifying request still waits for, if one is due at ``at``.

    Requests already past their deadline are left to expiry. Returns how many reminders were written.
    """
    # Two ticks at once would both see a reminder as due; one at a time, the second sees the first's.
    serialize(session, "reminders")
    outbox = Outbox(session)
    written = 0
    for request in RequestStore(session).verifying():
        if request.expires_at <= at:
            continue
        subject = f"request:{request.id}"
        asked = (
            select(NotificationRecord.person, func.max(NotificationRecord.created_at))
            .where(NotificationRecord.subject == subject, NotificationRecord.reason.in_(_ASKED))
            .group_by(NotificationRecord.person)
        )
        last_asked: dict[str, datetime] = dict(session.execute(asked).all())
        due = {p for p in request.waiting_for if p not in last_asked or at - last_asked[p] >= interval}
        outbox.tell(due, subject, REMINDER, at)
        written += len(due)
    return written


def __dir__() -> list[str]:
    return __all__
