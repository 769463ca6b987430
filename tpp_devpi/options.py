"""The ``tpp`` option group of devpi-server, and the ``tpp.*`` settings built from it.

Every option has a default that needs nothing: TPP's tables go into ``SERVERDIR/tpp.sqlite`` and the
pages are served for the server's own address. Each option can also be set as
``DEVPISERVER_TPP_…`` in the environment or under ``devpi-server:`` in devpi's YAML config.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ROUTE_PREFIX", "add_options", "option_help", "positive_seconds", "settings_from"]

#: Where TPP's pages live in devpi's URL space; devpi keeps "+" names for itself, so no user or
#: index can shadow it.
ROUTE_PREFIX = "/+tpp"


def positive_seconds(value: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < seconds < 86400:
        raise argparse.ArgumentTypeError(f"expected more than 0 and less than 86400 seconds, got {value!r}")
    return seconds


def add_options(parser: Any) -> None:
    """``devpiserver_add_parser_options``: the tpp group."""
    group = parser.addgroup("tpp", "Trustable Package Publication (tpp indexes)")
    group.addoption(
        "--tpp-database-url",
        metavar="URL",
        help="SQLAlchemy URL of TPP's own database (devices, policies, requests, audit); "
        "default: sqlite:///SERVERDIR/tpp.sqlite",
    )
    group.addoption(
        "--tpp-origin",
        metavar="ORIGIN",
        help="the origin browsers reach this server at, for WebAuthn (e.g. https://pypi.example); "
        "default: --outside-url, else http://localhost:PORT",
    )
    group.addoption(
        "--tpp-rp-id",
        metavar="HOST",
        help="the WebAuthn relying-party id; default: the host of --tpp-origin",
    )
    group.addoption(
        "--tpp-registry-name",
        metavar="NAME",
        help="the registry's name, shown on pages and put into every manifest; default: --tpp-origin",
    )
    group.addoption(
        "--tpp-vapid-private-key",
        metavar="PEM",
        help="the VAPID private key file for Web Push (tpp vapid generate); default: no push, notifications wait",
    )
    group.addoption(
        "--tpp-vapid-subject",
        metavar="CONTACT",
        help='how push services reach the operators, e.g. "mailto:ops@registry.example" (needed with a key)',
    )
    group.addoption(
        "--tpp-device-cooldown",
        metavar="DURATION",
        default="24h",
        help="how long a newly enrolled device must wait before it may approve (default: 24h)",
    )
    group.addoption(
        "--tpp-request-lifetime",
        metavar="DURATION",
        default="7d",
        help="how long a release may wait for its approvals before it expires and is deleted (default: 7d)",
    )
    group.addoption(
        "--tpp-tick-interval",
        metavar="SECONDS",
        type=positive_seconds,
        default=60.0,
        help="seconds between two runs of TPP's tick on the primary: expiry, reminders, notifications (default: 60)",
    )


class _Recorder:
    """Stands in for devpi's parser to list the tpp group's options (``tpp serve --help``)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def addgroup(self, name: str, description: str) -> _Recorder:
        self.lines.append(f"{description}, given to devpi-server after --:")
        return self

    def addoption(self, flag: str, *, metavar: str, help: str, **_: Any) -> None:
        self.lines.append(f"  {flag} {metavar}\n      {help}")


def option_help() -> str:
    """The tpp group's options and their help, as text (the same table devpi-server's --help shows)."""
    recorder = _Recorder()
    add_options(recorder)
    return "\n".join(recorder.lines)


def settings_from(config: Any) -> dict[str, object]:
    """The ``tpp.*`` settings for devpi's ``config`` (its parsed arguments and server directory)."""
    args = config.args
    origin = args.tpp_origin or (args.outside_url or f"http://localhost:{args.port}").rstrip("/")
    push = {"tpp.vapid.private_key": args.tpp_vapid_private_key, "tpp.vapid.subject": args.tpp_vapid_subject}
    return {
        **{key: value for key, value in push.items() if value},
        "tpp.database_url": args.tpp_database_url or f"sqlite:///{config.server_path / 'tpp.sqlite'}",
        "tpp.registry_name": args.tpp_registry_name or origin,
        "tpp.webauthn.rp_id": args.tpp_rp_id or urlsplit(origin).hostname or "",
        "tpp.webauthn.origin": origin,
        "tpp.route_prefix": ROUTE_PREFIX,
        "tpp.device_cooldown": args.tpp_device_cooldown,
        "tpp.request_lifetime": args.tpp_request_lifetime,
    }
