"""Every ``tpp.*`` setting: its default, its coercion, and the startup error that names what is wrong.

Settings come from the ``[app:main]`` section of a Pyramid ``.ini`` file (all strings)::

    tpp.registry_name = https://pypi.example
    tpp.webauthn.rp_id = pypi.example
    tpp.webauthn.origin =
        https://pypi.example
        https://upload.pypi.example
    tpp.device_cooldown = 24h

or from code and tests, already typed (a list of origins, a :class:`~datetime.timedelta`):

>>> from datetime import timedelta
>>> settings = TPPSettings.from_settings({
...     "tpp.registry_name": "https://pypi.example",
...     "tpp.webauthn.rp_id": "pypi.example",
...     "tpp.webauthn.origin": ["https://pypi.example"],
...     "tpp.device_cooldown": timedelta(0),
... })
>>> settings.challenge_lifetime
datetime.timedelta(seconds=300)
>>> settings.database_url is None  # no tpp.database_url: use the host's SQLAlchemy session
True

Every problem is reported at once, one per line, so a registry refuses to start with a message that
says what to fix:

>>> TPPSettings.from_settings({
...     "tpp.registry_name": "https://pypi.example",
...     "tpp.webauthn.rp_id": "pypi.example",
...     "tpp.webauthn.origin": "https://pypi.example",
...     "tpp.request_lifetime": "100d",
...     "tpp.challenge_lifetime": "1d",
... })
Traceback (most recent call last):
...
tpp_warehouse.settings.SettingsError: 2 problems in the tpp.* settings:
tpp.request_lifetime: must be longer than 0s and at most 90d, got '100d'
tpp.challenge_lifetime: must be between 30s and 1h, got '1d'
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from tpp_core.errors import InvalidInput

__all__ = ["SettingsError", "TPPSettings"]


class SettingsError(InvalidInput):
    """Raised at startup when ``tpp.*`` settings are missing, malformed or unknown; lists every problem.

    ``problems`` holds one line per problem, each starting with the setting's name.
    """

    def __init__(self, *problems: str) -> None:
        # The problems are the args, so the error pickles and compares like any other exception.
        super().__init__(*problems)
        self.problems: tuple[str, ...] = problems

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        return f"{len(self.problems)} problems in the tpp.* settings:\n" + "\n".join(self.problems)


class _Problem(Exception):
    """Raised by a parser with one or more descriptions of what is wrong (without the setting's name)."""

    def __init__(self, *details: str) -> None:
        super().__init__(*details)
        self.details = details


# A parser takes the raw value and the settings parsed so far (origins need the parsed rp_id), and
# returns the value in its normal form or raises _Problem.
_Parser = Callable[[object, Mapping[str, object]], object]


class _Setting(NamedTuple):
    key: str  # the name in the settings mapping
    field: str  # the TPPSettings attribute
    parse: _Parser
    expected: str  # the accepted form, for "is required" messages


# --- strings ---------------------------------------------------------------------------------------

_NAME_LIMIT = 200


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Problem(f"expected a string, got {value!r}")
    # .ini values carry the whitespace around them; it is never meant.
    value = value.strip()
    if not value:
        raise _Problem("must not be empty")
    return value


def _display_name(value: object, parsed: Mapping[str, object]) -> str:
    name = _text(value)
    # Shown on pages and put into manifests: one line, nothing that could forge a second one.
    if not name.isprintable():
        raise _Problem(f"must be one line of printable text, got {name!r}")
    if len(name) > _NAME_LIMIT:
        raise _Problem(f"must be at most {_NAME_LIMIT} characters, got {len(name)}")
    return name


_DATABASE_SCHEMES = ("sqlite:", "postgresql:", "postgresql+psycopg:")
_DATABASE_EXPECTED = 'an SQLAlchemy URL starting with "sqlite:", "postgresql:" or "postgresql+psycopg:"'
# user:password@ in a URL; the password must not reach logs through an error message.
_PASSWORD = re.compile(r"(://[^:@/]*):.*@")


def _redact(url: str) -> str:
    return _PASSWORD.sub(r"\1:***@", url)


def _database_url(value: object, parsed: Mapping[str, object]) -> str | None:
    # None is the documented "not set" (use the host's session); a blank .ini value is not.
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        raise _Problem("must not be empty; leave it out to use the host's SQLAlchemy session")
    url = _text(value)
    if not url.startswith(_DATABASE_SCHEMES):
        raise _Problem(f"expected {_DATABASE_EXPECTED}, got {_redact(url)!r}")
    return url


_ROUTE_PREFIX = re.compile(r"(?:/(?!\.+(?:/|$))[A-Za-z0-9._~+-]+)+")
_ROUTE_PREFIX_EXPECTED = (
    'a path such as "/tpp" or "/admin/tpp": "/" before each segment, no trailing "/", '
    'and only letters, digits, "-", "_", ".", "~", "+"'
)


def _route_prefix(value: object, parsed: Mapping[str, object]) -> str:
    prefix = _text(value)
    # Characters that need no escaping in routes, links or the service worker's scope; "+" because
    # devpi keeps "/+name" paths for itself (no user or index can be called "+tpp"). Dot segments are
    # refused because clients normalize them away.
    if not _ROUTE_PREFIX.fullmatch(prefix):
        raise _Problem(f"expected {_ROUTE_PREFIX_EXPECTED}, got {prefix!r}")
    return prefix


# --- WebAuthn --------------------------------------------------------------------------------------

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_HOST_EXPECTED = 'a host name such as "registry.example" or "localhost" (no scheme, port or path)'
# What the WHATWG URL parser reads as an IPv4 address: a numeric last label ("127.1", "0x7f.1").
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return bool(_NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]))
    return True


def _rp_id(value: object, parsed: Mapping[str, object]) -> str:
    # Browsers compare the RP ID with the page's lowercased host, so keep it in that form.
    host = _text(value).lower()
    if _is_ip_address(host):
        raise _Problem(
            f"{host!r} is an IP address, which WebAuthn refuses as a relying-party id; "
            'use a host name, such as "localhost" for development'
        )
    if len(host) > 253 or not _HOST.fullmatch(host):
        raise _Problem(f"expected {_HOST_EXPECTED}, got {host!r}")
    return host


_ORIGIN_EXAMPLES = '"https://registry.example" or "http://localhost:6543"'
_ORIGIN_EXPECTED = f"an origin such as {_ORIGIN_EXAMPLES}: scheme://host[:port], no path"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_localhost(host: str) -> bool:
    # Browsers treat localhost and its subdomains as secure contexts, even over http.
    return host == "localhost" or host.endswith(".localhost")


def _origin(value: str, rp_id: str | None) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise _Problem(f"expected {_ORIGIN_EXPECTED}, got {value!r}") from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if (
        scheme not in _DEFAULT_PORTS
        or not value.lower().startswith(f"{scheme}://")
        or "@" in parts.netloc
        or any(c in value for c in "?#")
        or parts.path
        or port == 0
        or not (_HOST.fullmatch(host) or _is_ip_address(host))
    ):
        raise _Problem(f"expected {_ORIGIN_EXPECTED}, got {value!r}")
    if scheme == "http" and not _is_localhost(host):
        raise _Problem(f"{value!r} uses http, which browsers allow for WebAuthn only on localhost; use https")
    if rp_id is not None and host != rp_id and not host.endswith(f".{rp_id}"):
        raise _Problem(
            f"the host of {value!r} is neither tpp.webauthn.rp_id ({rp_id!r}) nor a subdomain of it, "
            "so browsers would refuse WebAuthn there"
        )
    # Browsers send the origin serialized (lowercase, default port dropped), and py_webauthn compares
    # it as a string: store that form, or a correct setting would never match.
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}"


def _origins(value: object, parsed: Mapping[str, object]) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _Problem(f"expected origins separated by whitespace, or a list of them, got {value!r}")
    if not items:
        raise _Problem(f"expected at least one origin, such as {_ORIGIN_EXAMPLES}")
    rp_id = parsed.get("rp_id")
    origins: list[str] = []
    problems: list[str] = []
    for item in items:
        try:
            origins.append(_origin(_text(item), rp_id if isinstance(rp_id, str) else None))
        except _Problem as problem:
            problems.extend(problem.details)
    if problems:
        raise _Problem(*problems)
    return tuple(dict.fromkeys(origins))  # duplicates, once normalized, are harmless: drop them


# --- durations -------------------------------------------------------------------------------------

_DURATION = re.compile(r"([+-]?[0-9]{1,15})\s*([smhd]?)")
_DURATION_EXPECTED = 'a duration such as "24h", "30m", "7d" or a number of seconds'
_UNITS = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _to_timedelta(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    # bool is an int, but True is no duration.
    if isinstance(value, int) and not isinstance(value, bool):
        amount, unit = value, ""
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())):
        amount, unit = int(match[1]), match[2]
    else:
        raise _Problem(f"expected {_DURATION_EXPECTED}, got {value!r}")
    try:
        return timedelta(**{_UNITS[unit]: amount})
    except OverflowError:
        raise _Problem(f"is too long, got {value!r}") from None


def _duration(*, minimum: timedelta, exclusive: bool = False, maximum: timedelta | None = None, rule: str) -> _Parser:
    """Make a parser for a duration in ``[minimum, maximum]`` (``(minimum, maximum]`` if ``exclusive``)."""

    def parse(value: object, parsed: Mapping[str, object]) -> timedelta:
        duration = _to_timedelta(value)
        too_short = duration <= minimum if exclusive else duration < minimum
        if too_short or (maximum is not None and duration > maximum):
            raise _Problem(f"{rule}, got {value!r}")
        return duration

    return parse


# --- notifications ---------------------------------------------------------------------------------

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_REDIS_EXPECTED = 'a Redis URL such as "redis://127.0.0.1:6379/0" (also rediss:// and unix://)'


def _redis_url(value: object, parsed: Mapping[str, object]) -> str | None:
    # None (the default) runs the jobs in-process after each commit.
    if value is None:
        return None
    url = _text(value)
    if not url.startswith(_REDIS_SCHEMES):
        raise _Problem(f"expected {_REDIS_EXPECTED}, got {_redact(url)!r}")
    return url


_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_QUEUE_EXPECTED = 'a queue name of letters, digits, "_", "-" and "." (at most 64), such as "tpp"'


def _matching(pattern: re.Pattern[str], expected: str) -> _Parser:
    """Make a parser for a string that ``pattern`` matches in full."""

    def parse(value: object, parsed: Mapping[str, object]) -> str:
        name = _text(value)
        if not pattern.fullmatch(name):
            raise _Problem(f"expected {expected}, got {name!r}")
        return name

    return parse


_queue_name = _matching(_QUEUE_NAME, _QUEUE_EXPECTED)


_VAPID_KEY_EXPECTED = "the path of the private key `tpp vapid generate` wrote"


def _vapid_private_key(value: object, parsed: Mapping[str, object]) -> str | None:
    # None (the default) leaves Web Push off: notifications wait in the outbox.
    if value is None:
        return None
    from .vapid import VapidKeyError, load  # py_vapid only when push is configured

    path = _text(value)
    try:
        load(path)
    except VapidKeyError as error:
        raise _Problem(str(error)) from None
    return path


_SUBJECT = re.compile(r"mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(?:/\S*)?")
_SUBJECT_EXPECTED = 'how push services can reach the operators: "mailto:ops@registry.example" or an https:// URL'


def _vapid_subject(value: object, parsed: Mapping[str, object]) -> str | None:
    if value is None:
        return None
    subject = _text(value)
    if not _SUBJECT.fullmatch(subject):
        raise _Problem(f"expected {_SUBJECT_EXPECTED}, got {subject!r}")
    return subject


def _retry_intervals(value: object, parsed: Mapping[str, object]) -> tuple[timedelta, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _Problem(f"expected durations separated by whitespace, or a list of them, got {value!r}")
    intervals = tuple(_to_timedelta(item) for item in items)
    if not intervals or len(intervals) > 20:
        raise _Problem(f"expected 1 to 20 durations separated by whitespace, got {value!r}")
    if any(interval < timedelta(0) or interval > timedelta(days=1) for interval in intervals):
        raise _Problem(f"each interval must be between 0s and 1d, got {value!r}")
    return intervals


# --- Warehouse-shaped hosts ------------------------------------------------------------------------

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::[A-Za-z_][A-Za-z0-9_]*)?")
_DOTTED_EXPECTED = 'a dotted Python name such as "mywarehouse.tpp:SHAPES"'


# Only the form is checked here; tpp_warehouse.warehouse imports it and names what is missing.
_dotted = _matching(_DOTTED, _DOTTED_EXPECTED)


_QUARANTINE_EXPECTED = (
    'a directory ("/var/lib/tpp/quarantine" or "file:///var/lib/tpp/quarantine") or "s3://bucket/prefix"'
)
_S3_EXPECTED = 'an S3 location such as "s3://pypi-files/packages/" (bucket, then an optional prefix)'
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _s3_location(url: str) -> str:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not _S3_BUCKET.fullmatch(bucket):
        raise _Problem(f"the bucket must be 3 to 63 lowercase letters, digits, '.' or '-', got {bucket!r}")
    return f"s3://{bucket}/{prefix.strip('/')}".rstrip("/")


def _quarantine_url(value: object, parsed: Mapping[str, object]) -> str | None:
    # None (the default) leaves uploads where the host stores them: only Warehouse-shaped hosts need it.
    if value is None:
        return None
    url = _text(value)
    if url.startswith("s3://"):
        return _s3_location(url)
    path = url.removeprefix("file://")
    if not path.startswith("/"):
        raise _Problem(f"expected {_QUARANTINE_EXPECTED}, got {url!r}")
    return path


def _public_url(value: object, parsed: Mapping[str, object]) -> str | None:
    if value is None:
        return None
    url = _text(value)
    if not url.startswith("s3://"):
        raise _Problem(f"expected {_S3_EXPECTED}, got {url!r}")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    _s3_location(f"s3://{bucket}")  # checks the bucket's name
    # The prefix is kept as written: Warehouse's storage joins its prefix and a path with nothing between.
    return f"s3://{bucket}/{prefix}"


def _endpoint_url(value: object, parsed: Mapping[str, object]) -> str | None:
    if value is None:
        return None
    url = _text(value)
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.netloc:
        raise _Problem(f'expected an http(s) URL such as "http://127.0.0.1:9000", got {url!r}')
    return url


# --- the table -------------------------------------------------------------------------------------

# Order matters once: rp_id is parsed before the origins that must lie under it.
_SETTINGS = (
    _Setting("tpp.database_url", "database_url", _database_url, _DATABASE_EXPECTED),
    _Setting(
        "tpp.registry_name",
        "registry_name",
        _display_name,
        'the registry\'s public name, such as "https://pypi.example"',
    ),
    _Setting("tpp.webauthn.rp_id", "rp_id", _rp_id, _HOST_EXPECTED),
    _Setting("tpp.webauthn.rp_name", "rp_name", _display_name, "the name authenticators show"),
    _Setting("tpp.webauthn.origin", "origins", _origins, f"one or more origins, such as {_ORIGIN_EXAMPLES}"),
    _Setting("tpp.route_prefix", "route_prefix", _route_prefix, _ROUTE_PREFIX_EXPECTED),
    _Setting(
        "tpp.device_cooldown",
        "device_cooldown",
        _duration(minimum=timedelta(0), rule="must not be negative"),
        _DURATION_EXPECTED,
    ),
    _Setting(
        "tpp.request_lifetime",
        "request_lifetime",
        _duration(
            minimum=timedelta(0),
            exclusive=True,
            maximum=timedelta(days=90),
            rule="must be longer than 0s and at most 90d",
        ),
        _DURATION_EXPECTED,
    ),
    _Setting(
        "tpp.challenge_lifetime",
        "challenge_lifetime",
        _duration(minimum=timedelta(seconds=30), maximum=timedelta(hours=1), rule="must be between 30s and 1h"),
        _DURATION_EXPECTED,
    ),
    _Setting(
        "tpp.confirmation_lifetime",
        "confirmation_lifetime",
        _duration(minimum=timedelta(minutes=1), maximum=timedelta(days=7), rule="must be between 1m and 7d"),
        _DURATION_EXPECTED,
    ),
    _Setting(
        "tpp.recovery_lifetime",
        "recovery_lifetime",
        _duration(minimum=timedelta(minutes=5), maximum=timedelta(days=30), rule="must be between 5m and 30d"),
        _DURATION_EXPECTED,
    ),
    _Setting("tpp.redis_url", "redis_url", _redis_url, _REDIS_EXPECTED),
    _Setting("tpp.queue_name", "queue_name", _queue_name, _QUEUE_EXPECTED),
    _Setting("tpp.vapid.private_key", "vapid_private_key", _vapid_private_key, _VAPID_KEY_EXPECTED),
    _Setting("tpp.vapid.subject", "vapid_subject", _vapid_subject, _SUBJECT_EXPECTED),
    _Setting(
        "tpp.push.ttl",
        "push_ttl",
        _duration(minimum=timedelta(0), maximum=timedelta(days=28), rule="must be between 0s and 28d"),
        _DURATION_EXPECTED,
    ),
    _Setting("tpp.push.retry_intervals", "push_retry_intervals", _retry_intervals, "durations such as 10s 1m 5m"),
    _Setting(
        "tpp.reminder_interval",
        "reminder_interval",
        _duration(minimum=timedelta(minutes=1), rule="must be at least 1m"),
        _DURATION_EXPECTED,
    ),
    _Setting("tpp.warehouse.shapes", "warehouse_shapes", _dotted, _DOTTED_EXPECTED),
    _Setting("tpp.quarantine.url", "quarantine_url", _quarantine_url, _QUARANTINE_EXPECTED),
    _Setting("tpp.quarantine.public_url", "quarantine_public_url", _public_url, _S3_EXPECTED),
    _Setting("tpp.quarantine.s3_endpoint_url", "s3_endpoint_url", _endpoint_url, "an http(s) URL"),
)
_KNOWN = sorted(setting.key for setting in _SETTINGS)


def _parse(values: Mapping[str, object]) -> tuple[dict[str, Any], list[str]]:
    """Parse the fields present in ``values``; return their normal forms and every problem found."""
    parsed: dict[str, Any] = {}
    problems: list[str] = []
    for setting in _SETTINGS:
        if setting.field in values:
            try:
                parsed[setting.field] = setting.parse(values[setting.field], parsed)
            except _Problem as problem:
                problems.extend(f"{setting.key}: {detail}" for detail in problem.details)
    if parsed.get("vapid_private_key") and not parsed.get("vapid_subject"):
        problems.append(f"tpp.vapid.subject: is required with tpp.vapid.private_key; expected {_SUBJECT_EXPECTED}")
    quarantine = parsed.get("quarantine_url") or ""
    if quarantine.startswith("s3://") and not parsed.get("quarantine_public_url"):
        problems.append(
            f"tpp.quarantine.public_url: is required with an s3:// tpp.quarantine.url; expected {_S3_EXPECTED}"
        )
    if parsed.get("quarantine_public_url") and not quarantine.startswith("s3://"):
        problems.append("tpp.quarantine.public_url: only an s3:// tpp.quarantine.url promotes into it; leave it out")
    return parsed, problems


@dataclass(frozen=True, slots=True, kw_only=True)
class TPPSettings:
    """The parsed ``tpp.*`` settings, checked when built so that an invalid configuration cannot exist.

    Build it with :meth:`from_settings`. Building it directly (in tests) checks and normalizes the
    values the same way, and raises :class:`SettingsError` naming the setting behind each field.
    """

    #: ``tpp.webauthn.rp_id``: the WebAuthn relying-party id, a lowercase host name (never an IP address).
    rp_id: str
    #: ``tpp.webauthn.origin``: the serialized origins (``scheme://host[:port]``) pages are served from.
    origins: tuple[str, ...]
    #: ``tpp.registry_name``: the registry's public name, shown on pages and put into manifests.
    registry_name: str
    #: ``tpp.webauthn.rp_name``: the name authenticators show.
    rp_name: str = "TPP"
    #: ``tpp.database_url``: TPP's own database, or None to use the host's SQLAlchemy session.
    #: Left out of the repr because a URL may hold a password.
    database_url: str | None = field(default=None, repr=False)
    #: ``tpp.route_prefix``: where TPP's pages are mounted.
    route_prefix: str = "/tpp"
    #: ``tpp.device_cooldown``: how long a newly enrolled device must wait before it may approve.
    device_cooldown: timedelta = timedelta(hours=24)
    #: ``tpp.request_lifetime``: how long a request may wait for its approvals before it expires.
    request_lifetime: timedelta = timedelta(days=7)
    #: ``tpp.challenge_lifetime``: how long a WebAuthn challenge stays valid.
    challenge_lifetime: timedelta = timedelta(minutes=5)
    #: ``tpp.confirmation_lifetime``: how long a session stays confirmed with a device; changing
    #: anything in TPP needs a confirmed session (the host's password or session alone cannot).
    confirmation_lifetime: timedelta = timedelta(hours=12)
    #: ``tpp.recovery_lifetime``: how long a recovery voucher for a person who lost every device is valid.
    recovery_lifetime: timedelta = timedelta(hours=24)
    #: ``tpp.redis_url``: where rq queues jobs, or None to run them in-process after each commit.
    #: Left out of the repr because a URL may hold a password.
    redis_url: str | None = field(default=None, repr=False)
    #: ``tpp.queue_name``: the rq queue TPP's jobs go to.
    queue_name: str = "tpp"
    #: ``tpp.vapid.private_key``: the VAPID private key's PEM file, or None to send no Web Push.
    vapid_private_key: str | None = None
    #: ``tpp.vapid.subject``: the ``mailto:`` or ``https:`` contact push services see; required with a key.
    vapid_subject: str | None = None
    #: ``tpp.push.ttl``: how long a push service keeps a message for a device that is offline.
    push_ttl: timedelta = timedelta(hours=24)
    #: ``tpp.push.retry_intervals``: the waits before each new attempt after a 429, a 5xx or a network error.
    push_retry_intervals: tuple[timedelta, ...] = (
        timedelta(seconds=10),
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
    )
    #: ``tpp.reminder_interval``: how long an approver may leave a request unanswered before a reminder.
    reminder_interval: timedelta = timedelta(hours=24)
    #: ``tpp.warehouse.shapes``: where a Warehouse-shaped host keeps its models, sessionmaker and
    #: storage interface (a :class:`tpp_warehouse.warehouse.Shapes`); Warehouse's by default.
    warehouse_shapes: str = "tpp_warehouse.warehouse:WAREHOUSE"
    #: ``tpp.quarantine.url``: where gated uploads wait (a directory, or ``s3://bucket/prefix``), or None.
    quarantine_url: str | None = None
    #: ``tpp.quarantine.public_url``: the ``s3://bucket/prefix`` approved files are copied to (S3 only).
    quarantine_public_url: str | None = None
    #: ``tpp.quarantine.s3_endpoint_url``: an S3-compatible server instead of AWS (MinIO, moto).
    s3_endpoint_url: str | None = None

    def __post_init__(self) -> None:
        parsed, problems = _parse({setting.field: getattr(self, setting.field) for setting in _SETTINGS})
        if problems:
            raise SettingsError(*problems)
        for name, value in parsed.items():
            # Frozen: the normal form (a tuple of lowercase origins, a timedelta) is set once, here.
            object.__setattr__(self, name, value)

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> TPPSettings:
        """Read every ``tpp.*`` key of a Pyramid settings mapping; other keys are ignored.

        Values may be strings from an ``.ini`` file or already-typed Python values. A setting left
        out takes its default; one without a default is required.

        :raises SettingsError: listing every missing, malformed or unknown ``tpp.*`` setting, one per
            line. An unknown key is an error so that a typo cannot silently fall back to a default.
        """
        problems: list[str] = []
        for key in settings:
            if isinstance(key, str) and key.startswith("tpp.") and key not in _KNOWN:
                close = difflib.get_close_matches(key, _KNOWN, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"{key}: unknown setting{hint}; the known settings are {', '.join(_KNOWN)}")
        defaults = {f.name for f in fields(cls) if f.default is not MISSING}
        values: dict[str, Any] = {}  # raw (strings from an .ini file, or typed): __post_init__ parses them
        for setting in _SETTINGS:
            if setting.key in settings:
                values[setting.field] = settings[setting.key]
            elif setting.field not in defaults:
                problems.append(f"{setting.key}: is required; expected {setting.expected}")
        if problems:
            # No settings object can be built; the values are parsed only to report all that is wrong.
            raise SettingsError(*problems, *_parse(values)[1])
        return cls(**values)  # parsed once, in __post_init__


def __dir__() -> list[str]:
    return __all__
