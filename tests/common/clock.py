"""A clock that stands still until a test moves it: registered on an app, or handed to a
:class:`~tests.common.registry.Registry`, it makes every view and job see the test's time."""

from __future__ import annotations

from datetime import datetime, timedelta

from zope.interface import implementer

from tests.common.scenario import T0
from tpp_core import IClock


@implementer(IClock)
class FixedClock:
    """Answers ``at`` (``T0`` unless told otherwise) until :meth:`tick` or :meth:`set` moves it."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def tick(self, delta: timedelta) -> None:
        self.at += delta

    def set(self, at: datetime) -> None:
        self.at = at
