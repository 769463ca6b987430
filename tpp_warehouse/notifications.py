"""Who must be told what: an outbox written in the changing transaction, delivered after commit.

Writing the outbox row with the change means a notification is never sent for a change that rolled
back, and never lost for one that committed; the sender (Web Push through rq) reads it afterwards.

Usage::

    outbox = Outbox(session)
    outbox.notify(action, at)                               # a Notify action from a request
    outbox.tell({"ann"}, "device:7", "device-enrolled", at) # anything else
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import INotifier, Notify, PersonId

from .models import NotificationRecord

#: Set in ``session.info`` when a row was written, so the web request's commit dispatches it.
OUTBOX_WRITTEN = "tpp.outbox.written"

__all__ = ["Outbox"]


@implementer(INotifier)
class Outbox:
    """The ``tpp_notifications`` table, written through ``session``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def notify(self, action: Notify, at: datetime) -> None:
        """Queue one notification per recipient of a request's Notify action."""
        self.tell(action.recipients, f"request:{action.request_id}", action.reason.value, at)

    def tell(self, people: Iterable[PersonId], subject: str, reason: str, at: datetime) -> None:
        """Queue a notification about ``subject`` (e.g. ``"device:7"``) for each person, once each."""
        for person in sorted(set(people)):
            self._session.add(NotificationRecord(person=person, subject=subject, reason=reason, created_at=at))
            # Tells the after-commit hook (tpp_warehouse.delivery) that there is something to send.
            self._session.info[OUTBOX_WRITTEN] = True
        self._session.flush()
