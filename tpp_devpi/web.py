"""TPP's pages inside devpi's Pyramid app, under ``/+tpp/``.

One prefix for the whole server rather than ``/USER/INDEX/+tpp/``: TPP's routes have fixed paths
(``tpp.route_prefix``), policies name projects rather than indexes (a project name belongs to one
owner's tpp indexes, see :mod:`.denials`), and a person's devices and waiting requests span every
index.

``configure`` creates TPP's tables and moves approval records of the old format (on the primary;
:mod:`.migration`), then settles which files replicas may fetch (:mod:`.availability`), registers
the host adapter, a signed-cookie session for the sign-in form, ``tpp_warehouse`` itself, the
sign-in views and the leak guards.
pyramid_tm runs only for ``/+tpp/`` requests, so devpi's own requests pay nothing for it, and each
request has an explicit transaction manager of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pyramid.session import SignedCookieSessionFactory

from tpp_warehouse.interfaces import IHost
from tpp_warehouse.migrate import upgrade
from tpp_warehouse.settings import TPPSettings

from .availability import settle_all
from .host import DevpiHost
from .jobs import install
from .migration import migrate
from .options import ROUTE_PREFIX, settings_from
from .reconcile import Housekeeper
from .runtime import Runtime

__all__ = ["configure", "tm_active"]

_SESSION_LIFETIME = 12 * 3600  # seconds; a person signs in again every day


def tm_active(request: Any) -> bool:
    """``tm.activate_hook``: only TPP's own requests use its database transaction."""
    return bool(request.path_info.startswith(f"{ROUTE_PREFIX}/"))


def _session_secret(config: Any) -> bytes:
    # devpi derives (with argon2) and caches this key for its own auth tokens; a keyed hash of it
    # gives TPP a secret of its own without a second slow derivation or a file to manage.
    auth_key: bytes = config.get_derived_key(b"devpi-server-auth")
    return hmac.new(auth_key, b"tpp session cookies", hashlib.sha256).digest()


def configure(config: Any, pyramid_config: Any) -> None:
    """``devpiserver_pyramid_configure``: see the module docstring."""
    xom = pyramid_config.registry["xom"]
    settings = settings_from(config)
    parsed = TPPSettings.from_settings(settings)
    if not xom.is_replica():
        upgrade(str(settings["tpp.database_url"]))
        migrate(xom)
        settle_all(xom)  # after the migration: it reads the records where they now live
    # An explicit transaction manager per request: devpi's own requests (pyramid_tm inactive) then
    # have no transaction at all, rather than an implicit thread-local one that nobody ends.
    transactions = {"tm.activate_hook": tm_active, "tm.manager_hook": "pyramid_tm.explicit_manager"}
    pyramid_config.add_settings({**settings, **transactions})
    host = DevpiHost(xom)
    pyramid_config.set_session_factory(
        SignedCookieSessionFactory(
            _session_secret(config).hex(),
            cookie_name="tpp_session",
            secure=parsed.origins[0].startswith("https:"),
            httponly=True,
            samesite="Lax",  # POSTs carry a CSRF token; Lax keeps links from mail working
            max_age=_SESSION_LIFETIME,
            timeout=_SESSION_LIFETIME,
        )
    )
    pyramid_config.include("pyramid_services")
    pyramid_config.register_service(host, IHost)
    pyramid_config.include("tpp_warehouse")
    pyramid_config.include("tpp_devpi.login")
    pyramid_config.include("tpp_devpi.leaks")
    pyramid_config.include("tpp_devpi.status")
    pyramid_config.include("tpp_devpi.immutable")
    pyramid_config.include("tpp_devpi.malformed")
    pyramid_config.include("tpp_devpi.destruction")
    pyramid_config.include("tpp_devpi.reconcile")
    pyramid_config.include("tpp_devpi.availability")
    pyramid_config.include("tpp_devpi.replica")
    runtime = Runtime(xom, pyramid_config.registry, host)
    if not xom.is_replica() and not getattr(config.args, "requests_only", False):
        jobs = install(pyramid_config.registry, runtime.wake)
        xom.thread_pool.register(Housekeeper(runtime, config.args.tpp_tick_interval, jobs))
