"""What an uploader sees: the upload's answer says the release awaits approval and where to poll.

devpi answers a twine upload with an empty 200; on a ``tpp`` index the body says instead (twine
shows it with ``--verbose``)::

    verifying: acme 1.0 is stored but nobody can install it until its approvers approve it;
    status: https://registry.example/+tpp/releases/acme/1.0/status.json

That address is the shared app's ``tpp.release.status`` route (:mod:`tpp_warehouse.views.status`):
it finds the version's newest request and redirects to its status JSON, which takes the upload
credentials (basic auth, ``X-Devpi-Auth``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .gate import is_gated
from .options import ROUTE_PREFIX

__all__ = ["includeme"]

_UPLOAD_ROUTES = frozenset(("/{user}/{index}/", "/{user}/{index}"))


def upload_answer_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Under devpi's keyfs tween: a successful upload to a ``tpp`` index says where to poll."""

    if registry["xom"].is_replica():
        # A replica streams the body to the primary (it may not read it), and relays the primary's answer.
        return handler

    def tween(request: Any) -> Any:
        response = handler(request)
        route = getattr(getattr(request, "matched_route", None), "name", None)
        if route not in _UPLOAD_ROUTES or request.method != "POST" or response.status_code != 200:
            return response
        stage = getattr(getattr(request, "context", None), "_stage", None)
        if stage is None or not is_gated(stage) or request.POST.get(":action") != "file_upload":
            return response
        name, version = str(request.POST.get("name", "")), str(request.POST.get("version", ""))
        # quoted: a header is Latin-1, and a name or version may be anything an uploader sends
        path = f"{ROUTE_PREFIX}/releases/{quote(name, safe='')}/{quote(version, safe='')}/status.json"
        url = request.application_url + path
        response.text = (
            f"verifying: {name} {version} is stored but nobody can install it until its approvers approve it;"
            f" status: {url}\n"
        )
        response.headers["X-TPP-Status"] = url
        return response

    return tween


def includeme(config: Any) -> None:
    config.add_tween("tpp_devpi.status.upload_answer_tween", under="devpi_server.views.tween_keyfs_transaction")
