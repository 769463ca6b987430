"""What the plugin does on a devpi replica: send people to the primary, and fetch before ``.metadata``.

A replica has TPP's plugin (its filters and denials read the approval records devpi replicates)
but not TPP's database, which lives with the primary. So every ``/+tpp/`` request is redirected
there: to ``--tpp-origin`` if the replica names one (the primary's public address), else to devpi's
``--primary-url`` (``302`` for a page, ``307`` for a POST, which keeps its method and body).

Held files never reach a replica (:mod:`.availability`); an approved one arrives a moment after
its approval, by devpi's file replication. A client asking for its ``.metadata`` in that moment
would get the whole wheel (devpi streams the file it fetches for a missing ``.metadata``), so the
replica first fetches the file for this request (devpi's own fetch of a missing file; the copy on
disk comes from devpi's replication a moment later), and devpi then answers the metadata from it;
if the primary does not hand it over, the answer is a 502, never the wheel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from devpi_server.views import iter_fetch_remote_file
from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPBadGateway, HTTPFound, HTTPTemporaryRedirect

from .denials import FILE_ROUTE
from .gate import is_gated
from .options import ROUTE_PREFIX

__all__ = ["includeme", "primary_origin", "primary_redirect_tween"]

log = logging.getLogger(__name__)


def primary_origin(xom: Any) -> str:
    """Where a replica sends TPP's pages: ``--tpp-origin``, else devpi's ``--primary-url``."""
    origin = getattr(xom.config.args, "tpp_origin", None) or xom.config.primary_url.url
    return str(origin).rstrip("/")


def primary_redirect_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """On a replica: ``/+tpp/…`` is answered with a redirect to the same address on the primary."""
    xom = registry["xom"]
    if not xom.is_replica():
        return handler
    origin = primary_origin(xom)

    def tween(request: Any) -> Any:
        if not request.path_info.startswith(f"{ROUTE_PREFIX}/"):
            return handler(request)
        query = request.query_string
        location = origin + request.path_info + (f"?{query}" if query else "")
        if request.method in ("GET", "HEAD"):
            return HTTPFound(location=location)
        return HTTPTemporaryRedirect(location=location)

    return tween


def _fetch_before_metadata(event: Any) -> None:
    request = event.request
    route = getattr(request.matched_route, "name", None) if request.matched_route else None
    if route != FILE_ROUTE or request.method not in ("GET", "HEAD") or not request.path_info.endswith(".metadata"):
        return
    stage = getattr(request.context, "_stage", None)
    if stage is None or not is_gated(stage):
        return
    xom = stage.xom
    entry = xom.filestore.get_file_entry(request.path_info.strip("/").removesuffix(".metadata"))
    if entry is None or not entry.meta or entry.file_exists() or not request.has_permission("pkg_read"):
        return  # devpi answers: no such file, or 403 (the denials), or the metadata of its copy
    try:
        for _chunk in iter_fetch_remote_file(stage, entry, entry.url):  # type: ignore[no-untyped-call]  # devpi is untyped
            pass  # the bytes are kept for this request's transaction
    except Exception:
        log.exception("tpp: cannot fetch %s from the primary for its metadata", entry.relpath)
        raise HTTPBadGateway("the primary did not hand over this file; try again") from None


def includeme(config: Any) -> None:
    if not config.registry["xom"].is_replica():
        return
    config.add_tween("tpp_devpi.replica.primary_redirect_tween")
    config.add_subscriber(_fetch_before_metadata, ContextFound)
