"""The service worker script, served at the route prefix (``/tpp/sw.js``).

A service worker controls the pages under the directory it is served from, so serving it beside
the pages (not under ``/tpp/static/``) gives it the scope ``/tpp/`` without a
``Service-Worker-Allowed`` header. It shows TPP's push messages and opens the page they name.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from pyramid.response import Response
from pyramid.view import view_config

__all__ = ["service_worker"]

_SCRIPT = files("tpp_warehouse").joinpath("static/sw.js")


@view_config(route_name="tpp.service_worker", request_method="GET")
def service_worker(request: Any) -> Response:
    """The script itself; browsers check it for updates on every visit, so it is never cached."""
    return Response(body=_SCRIPT.read_bytes(), content_type="text/javascript", charset="utf-8")


def __dir__() -> list[str]:
    return __all__
