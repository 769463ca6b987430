"""Requests that cannot be read at all get a 400 before anything tries to read them.

A path or a query string that is not UTF-8 (``/+tpp/%ff``, ``/+tpp/login?%ff=%fe``) raises as soon
as devpi's request logger or a view decodes it, and a form body with a bad multipart boundary
raises in every view that reads ``request.POST`` (CSRF checks, TPP's forms, the upload checks); an
upload or push whose name or version holds a "/" or a line break breaks devpi's storage, and so does
an uploaded file whose name is too long for the file system once devpi adds its temporary suffix:
each was a 500. This tween sits over devpi's request logger, so it is the first to look, and answers those with
400 naming the problem; it also escapes a reason phrase devpi built from a name that is not
Latin-1. It parses bodies on the primary only: a replica proxies POSTs to the primary, which checks
them (and a body read here could not be streamed on).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pyramid.response import Response
from pyramid.tweens import INGRESS

from .refusal import refusal_reason

__all__ = ["includeme", "malformed_tween", "problem"]

_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_INDEX_PATH = re.compile(r"/[^+/][^/]*/[^+/][^/]*/?")  # /user/index: where uploads and pushes go
#: The longest file name devpi can store: file systems allow 255 bytes, and devpi writes the upload
#: first as ``<name>-<sha256 hex>-tmp``.
MAX_FILENAME_BYTES = 255 - len("-") - 64 - len("-tmp")


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
    if not parse_form or request.method not in ("POST", "PUT", "PATCH", "PUSH"):
        return None
    if request.content_type in _FORMS:
        try:
            fields = request.POST
        except (ValueError, UnicodeDecodeError) as error:  # webob's words for a bad boundary or header
            return f"the form body cannot be parsed: {str(error)[:200]}"
    elif request.content_type == "application/json" and request.method in ("POST", "PUSH"):
        try:
            fields = json.loads(request.body)
        except ValueError:
            return None  # devpi's views answer bad JSON themselves
    else:
        return None
    return _bad_release_fields(fields) if _INDEX_PATH.fullmatch(request.path_info) else None


def _bad_release_fields(fields: Any) -> str | None:
    """An upload, registration or push whose name or version devpi cannot store: its keys hold no
    "/", and a line break in a stored file name breaks its commit."""
    if not hasattr(fields, "get"):
        return None
    for key in ("name", "version"):
        value = fields.get(key)
        if isinstance(value, str) and (not value.isprintable() or "/" in value):
            return f"the {key} {value[:80]!r} holds a line break, a control character or a '/'"
    filename = getattr(fields.get("content"), "filename", None)
    if isinstance(filename, str) and len(filename.encode()) > MAX_FILENAME_BYTES:
        return (
            f"the file name {filename[:80]!r}... is {len(filename.encode())} bytes long; at most {MAX_FILENAME_BYTES}"
        )
    return None


def _latin1_status(response: Any) -> Any:
    """devpi puts names and versions into reason phrases (``abort_submit``); the status line is
    Latin-1, so a reason that is not is escaped rather than left to fail in the server."""
    code, _, reason = response.status.partition(" ")
    if not reason.isprintable() or not reason.isascii():
        response.status = f"{code} {refusal_reason(reason)}"
    return response


def malformed_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Over devpi's request logger: answer 400 to an unreadable request (see the module docstring)."""
    primary = not registry["xom"].is_replica()

    def tween(request: Any) -> Any:
        found = problem(request, parse_form=primary)
        if found is None:
            return _latin1_status(handler(request))
        return Response(status=400, text=f"bad request: {found}\n", content_type="text/plain")

    return tween


def includeme(config: Any) -> None:
    # Both bounds: with "over" alone Pyramid's sort lifts pyramid_tm and the exception view above
    # devpi's keyfs transaction, whose requests then see an old serial.
    logger = "devpi_server.views.tween_request_logging"
    config.add_tween("tpp_devpi.malformed.malformed_tween", under=INGRESS, over=logger)
