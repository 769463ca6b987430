"""Confirming a session with a device: the step after the host's sign-in that lets a person change things.

A password (devpi's upload credential) or a host session only reads TPP's pages; every change needs a
session confirmed with one of the person's devices (:func:`tpp_warehouse.security.confirmed_person`).
The page runs one WebAuthn assertion from ``static/confirm.js``::

    POST /tpp/confirm/begin   {}                                          -> {"id", "options"}
    ...                       navigator.credentials.get(options)
    POST /tpp/confirm/finish  {"ceremony": {"id", "credential"}, "next"}  -> {"next": "/tpp/…"}

A person with no device yet is sent to the devices page: enrolling a first device confirms the session.
"""

from __future__ import annotations

from typing import Any

from pyramid.view import view_config, view_defaults

from tpp_core import IClock
from tpp_warehouse.forms import ceremony_answer, json_object
from tpp_warehouse.interfaces import IDeviceService
from tpp_warehouse.security import is_confirmed, remember_confirmation, session_person

__all__ = ["ConfirmationViews", "safe_next"]


def safe_next(value: object, prefix: str) -> str | None:
    """``value`` if it is a path to one of TPP's own pages, else None: a link must not send a freshly
    signed-in or confirmed session anywhere else (an open redirect). The path goes into a Location
    header, so it must be printable ASCII without spaces (a page's own address is URL-encoded, so
    it is): a CR or LF would split the header.

    >>> safe_next("/tpp/policies/project/acme", "/tpp")
    '/tpp/policies/project/acme'
    >>> [safe_next(v, "/tpp") for v in ("//evil.example/tpp/", "https://evil.example", "/tpp/\\r\\nX: 1")]
    [None, None, None]
    """
    if not isinstance(value, str) or len(value) > 2000 or not value.startswith(f"{prefix}/"):
        return None
    if "//" in value or "\\" in value or " " in value or not value.isprintable() or not value.isascii():
        return None
    return value


@view_defaults(require_csrf=True)
class ConfirmationViews:
    """The confirmation page and its two JSON calls; each needs a browser session."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.clock = request.find_service(IClock, context=None)
        self.person = session_person(request)
        self.devices = request.find_service(IDeviceService, context=None)
        self.prefix = request.registry["tpp.settings"].route_prefix

    @view_config(route_name="tpp.confirm", request_method="GET", renderer="tpp_warehouse:templates/tpp/confirm.jinja2")
    def page(self) -> dict[str, Any]:
        """Confirm with a device, or (without one) go and enrol the first."""
        next_page = safe_next(self.request.GET.get("next"), self.prefix) or self.request.route_path("tpp.requests")
        return {
            "next": next_page,
            "has_devices": bool(self.devices.devices(self.person)),
            "confirmed": is_confirmed(self.request, self.person, self.clock.now()),
        }

    @view_config(route_name="tpp.confirm.begin", request_method="POST", renderer="json")
    def begin(self) -> dict[str, str]:
        """The assertion ceremony over the person's devices."""
        ceremony = self.devices.begin_confirmation(self.person, self.clock.now())
        return {"id": ceremony.id, "options": ceremony.options}

    @view_config(route_name="tpp.confirm.finish", request_method="POST", renderer="json")
    def finish(self) -> dict[str, str]:
        """Verify the assertion; the session is then confirmed with that device."""
        body = json_object(self.request)
        ceremony = ceremony_answer(body, "ceremony")
        at = self.clock.now()
        device = self.devices.finish_confirmation(self.person, ceremony, at)
        remember_confirmation(self.request, self.person, device.id, at)
        return {"next": safe_next(body.get("next"), self.prefix) or self.request.route_path("tpp.requests")}


def __dir__() -> list[str]:
    return __all__
