"""The views that read a ``tpp`` index without its filters, made to go through them.

devpi answers a few requests from its per-index ("perstage") functions, which skip customizer
filters: ``GET /user/index/project?ignore_bases`` and the ``projects`` list of ``GET /user/index``
(JSON). A plain index deriving from a ``tpp`` index would list the base's files with its own
(empty) filters, so it does not inherit from ``tpp`` bases at all (:func:`skips_base`); a ``tpp``
index deriving from one applies the base's records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pyramid.events import ContextFound

from .gate import is_gated

__all__ = ["includeme", "skips_base"]

_PROJECT_ROUTE = "/{user}/{index}/{project}"
_INDEX_ROUTE = "/{user}/{index}"


def skips_base(stage: Any, base_stage: Any) -> bool | None:
    """``devpiserver_sro_skip``: a plain index never inherits a ``tpp`` index's files."""
    if is_gated(base_stage) and not is_gated(stage):
        return True
    return None


def _gated_stage(request: Any) -> Any:
    # devpi's context has a lazy ``_stage`` (None for an unknown index); ``stage`` would raise a 404.
    stage = getattr(getattr(request, "context", None), "_stage", None)
    return stage if stage is not None and is_gated(stage) else None


def _no_ignore_bases(event: Any) -> None:
    request = event.request
    route = getattr(request.matched_route, "name", None) if request.matched_route else None
    if route == _PROJECT_ROUTE and "ignore_bases" in request.GET and _gated_stage(request) is not None:
        del request.GET["ignore_bases"]


def filtered_projects_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Under devpi's keyfs tween: the index JSON lists only the projects its filters let through."""

    def tween(request: Any) -> Any:
        response = handler(request)
        route = getattr(getattr(request, "matched_route", None), "name", None)
        if route != _INDEX_ROUTE or request.method != "GET" or response.content_type != "application/json":
            return response
        stage = _gated_stage(request)
        if stage is None:
            return response
        document = json.loads(response.body)
        result = document.get("result")
        if isinstance(result, dict) and "projects" in result:
            result["projects"] = sorted(stage.filter_projects(stage.list_projects_perstage()))
            response.body = json.dumps(document).encode()
        return response

    return tween


def includeme(config: Any) -> None:
    config.add_subscriber(_no_ignore_bases, ContextFound)
    config.add_tween("tpp_devpi.leaks.filtered_projects_tween", under="devpi_server.views.tween_keyfs_transaction")
