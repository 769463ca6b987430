"""Which devpi route a request is for, asked by the tweens that must decide before its view runs.

Pyramid's router matches the route only after every tween, so ``request.matched_route`` is still
unset where :mod:`.immutable` and :mod:`.destruction` look; they ask the route mapper themselves.
"""

from __future__ import annotations

from typing import Any

from pyramid.interfaces import IRoutesMapper

__all__ = ["route_of"]


def route_of(request: Any) -> tuple[str | None, dict[str, str]]:
    """The name and match of the route ``request`` will reach, or ``(None, {})``."""
    found = request.registry.getUtility(IRoutesMapper)(request)
    route = found.get("route")
    return (route.name, dict(found.get("match") or {})) if route is not None else (None, {})
