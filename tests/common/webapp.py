"""A small host registry for functional tests: a Pyramid app with browser sign-in (a session
cookie) and API tokens (basic auth, as twine sends them), that includes ``tpp_warehouse``.

Sign-in is a test-only form (``POST /login`` with ``person``); a real host has its own. Tokens are
``__token__:<token>`` basic auth: they identify a person for the status JSON, never for pages.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.session import SignedCookieSessionFactory
from zope.interface import implementer

from tests.common.host import MemoryHost
from tpp_core import IClock, PersonId
from tpp_warehouse.interfaces import IHost

ORIGIN = "http://localhost:6543"


@implementer(IHost)
@dataclass
class WebHost(MemoryHost):
    """MemoryHost's projects, with people read from the session cookie and tokens from basic auth."""

    tokens: dict[str, str] = field(default_factory=dict)

    def session_person(self, request: Any) -> PersonId | None:
        person = request.session.get("person")
        return None if person is None else PersonId(person)

    def credential_person(self, request: Any) -> PersonId | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            person = self.tokens.get(secret) if user == "__token__" else None
            return None if person is None else PersonId(person)
        return self.session_person(request)


def _login(request: Any) -> HTTPSeeOther:
    request.session["person"] = request.POST["person"]
    return HTTPSeeOther(location=request.POST.get("next", "/"))


def make_app(database_url: str, host: WebHost, clock: IClock | None = None, /, **settings: Any) -> Any:
    """The host app with TPP included, on TPP's tables at ``database_url``; with ``clock``, every
    view and job reads the time from it instead of the system clock."""
    config = Configurator(
        settings={
            "tpp.database_url": database_url,
            "tpp.registry_name": "https://registry.example",
            "tpp.webauthn.rp_id": "localhost",
            "tpp.webauthn.origin": ORIGIN,
            "tpp.device_cooldown": "0",
            **settings,
        }
    )
    config.set_session_factory(SignedCookieSessionFactory("test-only-secret", secure=False, httponly=True))
    config.include("pyramid_services")
    config.include("tests.common.bodies")
    config.register_service(host, IHost)
    if clock is not None:
        config.register_service(clock, IClock)  # overrides the one tpp_warehouse registers
    config.add_route("login", "/login")
    config.add_view(_login, route_name="login", request_method="POST", require_csrf=False)
    config.include("tpp_warehouse")
    return config.make_wsgi_app()


def paste_app(global_config: dict[str, str], **settings: str) -> Any:
    """The same app from an .ini file (``use = call:tests.common.webapp:paste_app``), as the ``tpp``
    commands load a registry."""
    return make_app(settings.pop("tpp.database_url"), WebHost(), **settings)


def write_ini(directory: Path, database_url: str, **settings: str) -> Path:
    """A registry's .ini file for :func:`paste_app` on ``database_url``, as operators pass to ``tpp``."""
    lines = [
        "[app:main]",
        "use = call:tests.common.webapp:paste_app",
        f"tpp.database_url = {database_url}",
        *(f"{key} = {value}" for key, value in settings.items()),
    ]
    path = directory / "registry.ini"
    path.write_text("\n".join(lines) + "\n")
    return path
