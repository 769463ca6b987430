"""The views that read a ``tpp`` index without its filters, made to go through them.

devpi answers a few requests from its per-index ("perstage") data, which skips customizer filters:

- ``GET /user/index/project?ignore_bases`` (the parameter is dropped on a ``tpp`` index);
- the ``projects`` list of ``GET /user/index`` (JSON);
- ``+links`` of the project and version JSON (``GET /user/index/project[/version]``): a version's
  stored links, held files of an approved version among them, and ``+shadowing`` (the version data
  of bases further down the resolution order);
- ``GET /user/index/+f/…`` with ``Accept: application/json``, which answers a file's metadata before
  devpi checks ``pkg_read``.

:func:`filtered_json_tween` rewrites those answers to list only what the filters show, and answers
503 (no data) if that filtering fails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

from pyramid.events import ContextFound

from .bases import Lineage
from .denials import FILE_ROUTE, denials
from .gate import is_gated
from .refusal import refusal

__all__ = ["filtered_json_tween", "includeme"]

log = logging.getLogger(__name__)

_INDEX_ROUTE = "/{user}/{index}"
_PROJECT_ROUTE = "/{user}/{index}/{project}"
_VERSION_ROUTE = "/{user}/{index}/{project}/{version}"
_FILTERED = frozenset((_INDEX_ROUTE, _PROJECT_ROUTE, _VERSION_ROUTE, FILE_ROUTE))


def _gated_stage(request: Any) -> Any:
    # devpi's context has a lazy ``_stage`` (None for an unknown index); ``stage`` would raise a 404.
    stage = getattr(getattr(request, "context", None), "_stage", None)
    return stage if stage is not None and is_gated(stage) else None


def _no_ignore_bases(event: Any) -> None:
    request = event.request
    route = getattr(request.matched_route, "name", None) if request.matched_route else None
    if route == _PROJECT_ROUTE and "ignore_bases" in request.GET and _gated_stage(request) is not None:
        del request.GET["ignore_bases"]


def filtered_json_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Under devpi's keyfs tween: devpi's JSON about a ``tpp`` index lists only what its filters show."""

    def tween(request: Any) -> Any:
        response = handler(request)
        route = getattr(getattr(request, "matched_route", None), "name", None)
        if route not in _FILTERED or request.method != "GET" or response.content_type != "application/json":
            return response
        stage = _gated_stage(request)
        if stage is None or response.status_code != 200:
            return response
        try:
            if route == FILE_ROUTE:
                return response if denials(request, stage) is None else refusal(request, 403, "package read forbidden")
            document = json.loads(response.body)
            _filter(route, request, stage, document.get("result"))
        except Exception:
            log.exception("tpp: cannot filter %s; answering without data", request.path)
            return refusal(request, 503, "tpp could not filter this listing; nothing is shown")
        response.body = json.dumps(document, indent=2).encode()
        return response

    return tween


def _filter(route: str, request: Any, stage: Any, result: Any) -> None:
    if route == _INDEX_ROUTE:
        if isinstance(result, dict) and "projects" in result:
            result["projects"] = sorted(stage.filter_projects(stage.list_projects_perstage()))
        return
    # devpi's hrefs are absolute; behind --outside-url they start with its path
    links = _Links(Lineage(stage), request.matchdict["project"], urlsplit(request.application_url).path)
    if route == _PROJECT_ROUTE:
        for version, data in result.items():
            links.filter_version(version, data)
    else:
        links.filter_version(request.matchdict["version"], result)


class _Links:
    """The ``+links`` of one project's version data, filtered by the index's lineage."""

    def __init__(self, lineage: Lineage, project: str, prefix: str) -> None:
        self.lineage, self.project, self.prefix = lineage, project, prefix.rstrip("/") + "/"

    def filter_version(self, version: str, data: dict[str, Any]) -> None:
        """Keep the approved release files under ``+links``, and the shadowed data that has any."""
        if "+links" in data:
            data["+links"] = [link for link in data["+links"] if self.approved(version, link)]
        shadowing = data.pop("+shadowing", None)
        if shadowing:
            for shadowed in shadowing:
                self.filter_version(version, shadowed)
            kept = [shadowed for shadowed in shadowing if shadowed.get("+links")]
            if kept:
                data["+shadowing"] = kept

    def approved(self, version: str, link: dict[str, Any]) -> bool:
        if link.get("rel") != "releasefile":
            return False  # documentation and test results are nobody's approved files
        path = unquote(urlsplit(link["href"]).path)
        if not path.startswith(self.prefix):
            return False
        entrypath = path.removeprefix(self.prefix)
        basename = entrypath.rsplit("/", 1)[-1]
        simple = SimpleNamespace(href=entrypath, version=version, basename=basename, hashes=link.get("hashes", {}))
        return self.lineage.link_visible(self.project, simple)


def includeme(config: Any) -> None:
    config.add_subscriber(_no_ignore_bases, ContextFound)
    config.add_tween("tpp_devpi.leaks.filtered_json_tween", under="devpi_server.views.tween_keyfs_transaction")
