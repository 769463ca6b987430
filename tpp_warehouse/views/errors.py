"""One home for turning TPP's errors into answers: 4xx with a message, never a 500 (I10).

JSON endpoints (a JSON body or an ``Accept: application/json``) get ``{"error": message}``; pages
get the error template.
"""

from __future__ import annotations

from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config

from tpp_core import (
    AuditChainBroken,
    ChallengeMismatch,
    DecisionRefused,
    EnrolmentRefused,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    TPPError,
)
from tpp_warehouse.webauthn import WebAuthnRejected

__all__ = ["STATUS", "tpp_error", "wants_json"]

#: The routes CI polls: their errors are JSON whatever the caller accepts.
_STATUS_ROUTES = frozenset({"tpp.request.status", "tpp.release.status"})

#: The answer to each kind of error; the first matching class wins.
STATUS: tuple[tuple[type[TPPError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Not allowed"),
    (DecisionRefused, 403, "Decision refused"),
    (EnrolmentRefused, 403, "Device refused"),
    (InvalidTransition, 409, "Already decided"),
    (WebAuthnRejected, 400, "Confirmation failed"),
    (ChallengeMismatch, 400, "Confirmation failed"),
    (AuditChainBroken, 500, "Audit log damaged"),
    (InvalidInput, 400, "Bad request"),
    (TPPError, 400, "Bad request"),
)


def wants_json(request: Any) -> bool:
    """Whether the caller is a script (TPP's own JS, or CI polling with curl) rather than a person."""
    route = getattr(request, "matched_route", None)
    return bool(
        request.content_type == "application/json"
        or "application/json" in str(request.accept)
        or (route is not None and route.name in _STATUS_ROUTES)
    )


@exception_view_config(TPPError)
def tpp_error(error: TPPError, request: Any) -> Any:
    """TPP's answer to ``error``: a page, or JSON for a script; a host's own error views may use it."""
    status, title = next((s, t) for kind, s, t in STATUS if isinstance(error, kind))
    return answer(request, status, title, str(error))


@exception_view_config(BadCSRFToken)
def bad_csrf(error: BadCSRFToken, request: Any) -> Any:
    """A missing or stale CSRF token: the page was open too long, or the caller is not a page."""
    return answer(
        request, 400, "Page expired", "this page expired or was not sent by the registry; reload it and try again"
    )


def answer(request: Any, status: int, title: str, message: str) -> Any:
    """An error answer in the form the caller reads."""
    request.response.status_code = status
    if wants_json(request):
        request.response.content_type = "application/json"
        request.response.json_body = {"error": message}
        return request.response
    return render_to_response(
        "tpp_warehouse:templates/tpp/error.jinja2",
        {"status": status, "title": title, "message": message},
        request=request,
        response=request.response,
    )
