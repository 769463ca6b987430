"""Requests that cannot be read at all get a 400 before anything tries to read them.

A path or a query string that is not UTF-8 (``/+tpp/%ff``, ``/+tpp/login?%ff=%fe``) raises as soon
as devpi's request logger or a view decodes it, and a form body with a bad multipart boundary
raises in every view that reads ``request.POST`` (CSRF checks, TPP's forms, the upload checks):
each was a 500. This tween sits over devpi's request logger, so it is the first to look, and
answers those with 400 naming the problem. It parses form bodies on the primary only: a replica
proxies POSTs to the primary, which checks them (and a body read here could not be streamed on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.response import Response
from pyramid.tweens import INGRESS

__all__ = ["includeme", "malformed_tween", "problem"]

_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def problem(request: Any, parse_form: bool) -> str | None:
    """What makes ``request`` unreadable, or None."""
    try:
        request.path_info  # noqa: B018  (decoding is the check)
    except UnicodeDecodeError:
        return "the path is not UTF-8"
    try:
        request.GET.items()
    except UnicodeDecodeError:
        return "the query string is not UTF-8"
    if parse_form and request.method in ("POST", "PUT", "PATCH") and request.content_type in _FORMS:
        try:
            request.POST.items()
        except (ValueError, UnicodeDecodeError) as error:  # webob's words for a bad boundary or header
            return f"the form body cannot be parsed: {str(error)[:200]}"
    return None


def malformed_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Over devpi's request logger: answer 400 to an unreadable request (see the module docstring)."""
    primary = not registry["xom"].is_replica()

    def tween(request: Any) -> Any:
        found = problem(request, parse_form=primary)
        if found is None:
            return handler(request)
        return Response(status=400, text=f"bad request: {found}\n", content_type="text/plain")

    return tween


def includeme(config: Any) -> None:
    # Both bounds: with "over" alone Pyramid's sort lifts pyramid_tm and the exception view above
    # devpi's keyfs transaction, whose requests then see an old serial.
    logger = "devpi_server.views.tween_request_logging"
    config.add_tween("tpp_devpi.malformed.malformed_tween", under=INGRESS, over=logger)
