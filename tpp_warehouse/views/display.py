"""How the pages show values: one format for times, in Python (:func:`when`) and in every template
(the ``tpp_time`` filter, which wraps it in a ``<time>`` element that machines can read too)::

    <td>{{ request.opened_at | tpp_time }}</td>
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from pyramid_jinja2 import ENV_CONFIG_PHASE, IJinja2Environment

__all__ = ["includeme", "register_filter", "time_element", "when"]

#: The filter's name in the templates; prefixed, because a host's environment has filters of its own.
FILTER = "tpp_time"


def when(moment: datetime) -> str:
    """A time as the pages show it: UTC, to the second.

    >>> when(datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC))
    '2026-01-02 03:04:05 UTC'

    :raises ValueError: if ``moment`` is naive.
    """
    if moment.utcoffset() is None:
        raise ValueError(f"refusing to show a naive time: {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def time_element(moment: datetime) -> Markup:
    """The ``tpp_time`` filter: :func:`when` in a ``<time>`` element with the exact time. The date and
    the time of day are a ``<span>`` each, which tpp.css keeps whole: a narrow table cell breaks the
    line between them, never at a date's hyphens (four lines of "2026-" "01-02" …).

    >>> time_element(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    Markup('<time datetime="2026-01-02T03:04:05+00:00"><span>2026-01-02</span> <span>03:04:05 UTC</span></time>')
    """
    date, _, clock = when(moment).partition(" ")  # refuses a naive time first
    return Markup('<time datetime="{}"><span>{}</span> <span>{}</span></time>').format(
        moment.astimezone(UTC).isoformat(), date, clock
    )


def register_filter(config: Any, name: str, function: Callable[..., Any]) -> None:
    """Make ``function`` the templates' filter ``name``, in the environment TPP's templates use."""

    def add_filter() -> None:
        # The environment exists once pyramid_jinja2's own action ran (or the host committed it).
        config.registry.getUtility(IJinja2Environment, name=".jinja2").filters[name] = function

    config.action(("tpp.jinja2.filter", name), add_filter, order=ENV_CONFIG_PHASE + 1)


def includeme(config: Any) -> None:
    register_filter(config, FILTER, time_element)
