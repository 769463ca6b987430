"""How the pages show values."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["when"]


def when(moment: datetime) -> str:
    """A time as the pages show it: UTC, to the second.

    >>> when(datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC))
    '2026-01-02 03:04:05 UTC'

    :raises ValueError: if ``moment`` is naive.
    """
    if moment.utcoffset() is None:
        raise ValueError(f"refusing to show a naive time: {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
