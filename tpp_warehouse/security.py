"""Who may use TPP's pages, and the headers that protect them.

Approval, policy and device pages need a browser session (invariant I3): the host's
:meth:`~.interfaces.IHost.session_person` returns None for API tokens and basic auth, and then
:func:`session_person` refuses. Only the status JSON accepts any credential the host accepts.

A session alone may read, and enrol a first device. Everything that changes who approves, what is
approved or which devices count needs :func:`confirmed_person`: a session that proved one of the
person's devices with a WebAuthn assertion (the confirmation page, or enrolling a device), no longer
ago than ``tpp.confirmation_lifetime``, with that device still enrolled. On devpi the upload
credential is the account password, so a password must never be enough to change anything here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyramid.events import NewResponse

from tpp_core import IClock, PermissionDenied, PersonId

from .csp import merge
from .interfaces import IDeviceService, IHost

__all__ = [
    "CSP",
    "CONFIRMATION_KEY",
    "ConfirmationRequired",
    "SessionRequired",
    "confirmed_person",
    "credential_person",
    "includeme",
    "is_confirmed",
    "remember_confirmation",
    "session_person",
]

#: The session key holding which device confirmed the session, and when.
CONFIRMATION_KEY = "tpp.confirmed"

#: No inline script or style anywhere: the pages load TPP's own static files only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SessionRequired(PermissionDenied):
    """Raised when a page that needs a signed-in browser session is reached without one."""


class ConfirmationRequired(PermissionDenied):
    """Raised when a change is asked for by a session that has not confirmed one of the person's devices."""


def session_person(request: Any) -> PersonId:
    """The person signed in through a browser session. :raises SessionRequired: otherwise."""
    person = request.find_service(IHost, context=None).session_person(request)
    if person is None:
        raise SessionRequired(
            "sign in to the registry in your browser to use this page; API tokens and basic auth cannot"
            " approve, change policies or manage devices"
        )
    return PersonId(person)


def confirmed_person(request: Any, at: datetime) -> PersonId:
    """The person of a browser session confirmed with one of their devices at most
    ``tpp.confirmation_lifetime`` before ``at``.

    :raises SessionRequired: without a browser session.
    :raises ConfirmationRequired: if the session did not confirm a device, too long ago, for another
        person, or with a device that has since been removed.
    """
    person = session_person(request)
    if not is_confirmed(request, person, at):
        prefix = request.registry["tpp.settings"].route_prefix
        raise ConfirmationRequired(
            f"confirm with one of your devices first (at {prefix}/confirm):"
            " a password or a sign-in alone cannot change anything in TPP"
        )
    return person


def is_confirmed(request: Any, person: PersonId, at: datetime) -> bool:
    """Whether the session proved one of ``person``'s devices recently enough (see :func:`confirmed_person`)."""
    proof = request.session.get(CONFIRMATION_KEY)
    if not isinstance(proof, dict) or proof.get("person") != person or not isinstance(proof.get("at"), str):
        return False
    try:
        confirmed_at = datetime.fromisoformat(proof["at"])
    except ValueError:
        return False
    lifetime = request.registry["tpp.settings"].confirmation_lifetime
    if confirmed_at.utcoffset() is None or not confirmed_at <= at <= confirmed_at + lifetime:
        return False
    return bool(request.find_service(IDeviceService, context=None).confirms(person, proof.get("device")))


def remember_confirmation(request: Any, person: PersonId, device_id: int, at: datetime) -> None:
    """Record in the session that ``person`` proved the device ``device_id`` at ``at``; a fresh
    CSRF token goes with it, as with any change of privilege."""
    request.session[CONFIRMATION_KEY] = {"person": person, "device": device_id, "at": at.isoformat()}
    request.session.new_csrf_token()


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


def _confirmed_now(request: Any) -> bool | None:
    """``request.tpp_confirmed``: whether this session is confirmed now, None without a session
    (pages show a signed-in person how to confirm)."""
    person = request.find_service(IHost, context=None).session_person(request)
    if person is None:
        return None
    return is_confirmed(request, PersonId(person), request.find_service(IClock, context=None).now())


def includeme(config: Any) -> None:
    config.add_subscriber(_protect, NewResponse)
    config.add_request_method(_confirmed_now, "tpp_confirmed", reify=True)
