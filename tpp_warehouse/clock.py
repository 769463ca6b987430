"""The one clock: views and jobs ask it for the time, and pass that time to the services and the core.

Usage::

    at = request.find_service(IClock, context=None).now()

A host, or a test, registers another :class:`~tpp_core.IClock` (``config.register_service(clock,
IClock)``) to run the registry at a time of its choosing; nothing else in TPP reads the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from zope.interface import implementer

from tpp_core import IClock

__all__ = ["SystemClock"]


@implementer(IClock)
class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        return datetime.now(UTC)


def __dir__() -> list[str]:
    return __all__
