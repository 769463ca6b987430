"""Who may use TPP's pages, and the headers that protect them.

Approval, policy and device pages need a browser session (invariant I3): the host's
:meth:`~.interfaces.IHost.session_person` returns None for API tokens and basic auth, and then
:func:`session_person` refuses. Only the status JSON accepts any credential the host accepts.
"""

from __future__ import annotations

from typing import Any

from pyramid.events import NewResponse

from tpp_core import PermissionDenied, PersonId

from .csp import merge
from .interfaces import IHost

__all__ = ["CSP", "SessionRequired", "credential_person", "includeme", "session_person"]

#: No inline script or style anywhere: the pages load TPP's own static files only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SessionRequired(PermissionDenied):
    """Raised when a page that needs a signed-in browser session is reached without one."""


def session_person(request: Any) -> PersonId:
    """The person signed in through a browser session. :raises SessionRequired: otherwise."""
    person = request.find_service(IHost, context=None).session_person(request)
    if person is None:
        raise SessionRequired(
            "sign in to the registry in your browser to use this page; API tokens and basic auth cannot"
            " approve, change policies or manage devices"
        )
    return PersonId(person)


def credential_person(request: Any) -> PersonId | None:
    """The person behind any credential the host accepts (tokens included), or None."""
    person = request.find_service(IHost, context=None).credential_person(request)
    return None if person is None else PersonId(person)


def _protect(event: Any) -> None:
    route = getattr(event.request, "matched_route", None)
    if route is not None and route.name.startswith("tpp."):
        headers = event.response.headers
        # A host's own policy (Warehouse's CSP tween sets it before this runs) gets TPP's needs added.
        host_policy = headers.get("Content-Security-Policy")
        headers["Content-Security-Policy"] = CSP if host_policy is None else merge(host_policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cache-Control", "no-store")  # pages and status change with every decision


def includeme(config: Any) -> None:
    config.add_subscriber(_protect, NewResponse)
