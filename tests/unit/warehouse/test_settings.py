"""The tpp.* settings: documented defaults, both input forms, and a startup error naming every problem."""

from __future__ import annotations

import dataclasses
import pickle
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tpp_core.errors import InvalidInput, TPPError
from tpp_warehouse import settings as settings_module
from tpp_warehouse.settings import SettingsError, TPPSettings
from tpp_warehouse.vapid import generate, load

MINIMAL: dict[str, object] = {
    "tpp.registry_name": "https://pypi.example",
    "tpp.webauthn.rp_id": "pypi.example",
    "tpp.webauthn.origin": "https://pypi.example",
}

KNOWN_KEYS = [
    "tpp.challenge_lifetime",
    "tpp.confirmation_lifetime",
    "tpp.database_url",
    "tpp.device_cooldown",
    "tpp.push.retry_intervals",
    "tpp.push.ttl",
    "tpp.quarantine.public_url",
    "tpp.quarantine.s3_endpoint_url",
    "tpp.quarantine.url",
    "tpp.queue_name",
    "tpp.recovery_lifetime",
    "tpp.redis_url",
    "tpp.registry_name",
    "tpp.reminder_interval",
    "tpp.request_lifetime",
    "tpp.route_prefix",
    "tpp.vapid.private_key",
    "tpp.vapid.subject",
    "tpp.warehouse.shapes",
    "tpp.webauthn.origin",
    "tpp.webauthn.rp_id",
    "tpp.webauthn.rp_name",
]


def parse(**overrides: object) -> TPPSettings:
    """MINIMAL with ``tpp.``-less keys overridden (``webauthn__rp_id`` for ``tpp.webauthn.rp_id``)."""
    return TPPSettings.from_settings({**MINIMAL, **{"tpp." + k.replace("__", "."): v for k, v in overrides.items()}})


def problems_of(settings: dict[str, object]) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as raised:
        TPPSettings.from_settings(settings)
    return raised.value.problems


def test_minimal_settings_give_the_documented_defaults() -> None:
    assert TPPSettings.from_settings(MINIMAL) == TPPSettings(
        registry_name="https://pypi.example",
        rp_id="pypi.example",
        origins=("https://pypi.example",),
        rp_name="TPP",
        database_url=None,
        route_prefix="/tpp",
        device_cooldown=timedelta(hours=24),
        request_lifetime=timedelta(days=7),
        challenge_lifetime=timedelta(minutes=5),
        redis_url=None,
        queue_name="tpp",
        vapid_private_key=None,
        vapid_subject=None,
        push_ttl=timedelta(hours=24),
        push_retry_intervals=(
            timedelta(seconds=10),
            timedelta(minutes=1),
            timedelta(minutes=5),
            timedelta(minutes=30),
            timedelta(hours=2),
        ),
        reminder_interval=timedelta(hours=24),
    )


def test_ini_strings_are_parsed() -> None:
    settings = TPPSettings.from_settings(
        {
            "tpp.database_url": " postgresql+psycopg://tpp@localhost/tpp ",
            "tpp.registry_name": "devpi at https://devpi.example/acme/prod",
            "tpp.webauthn.rp_id": "devpi.example",
            "tpp.webauthn.rp_name": "Acme registry",
            # An .ini value spread over several lines, as Pyramid hands it over.
            "tpp.webauthn.origin": "\nhttps://devpi.example\n    https://approve.devpi.example:8443",
            "tpp.route_prefix": "/admin/tpp",
            "tpp.device_cooldown": "30s",
            "tpp.request_lifetime": "90d",
            "tpp.challenge_lifetime": "1h",
        }
    )
    assert settings.database_url == "postgresql+psycopg://tpp@localhost/tpp"
    assert settings.registry_name == "devpi at https://devpi.example/acme/prod"
    assert settings.rp_name == "Acme registry"
    assert settings.origins == ("https://devpi.example", "https://approve.devpi.example:8443")
    assert settings.route_prefix == "/admin/tpp"
    assert (settings.device_cooldown, settings.request_lifetime, settings.challenge_lifetime) == (
        timedelta(seconds=30),
        timedelta(days=90),
        timedelta(hours=1),
    )


def test_typed_values_are_accepted() -> None:
    settings = parse(
        webauthn__origin=["https://pypi.example", "https://www.pypi.example"],
        device_cooldown=timedelta(0),
        request_lifetime=3600,
        challenge_lifetime=timedelta(seconds=30),
        database_url=None,
    )
    assert settings.origins == ("https://pypi.example", "https://www.pypi.example")
    assert settings.device_cooldown == timedelta(0)
    assert settings.request_lifetime == timedelta(hours=1)
    assert settings.challenge_lifetime == timedelta(seconds=30)
    assert settings.database_url is None
    assert parse(webauthn__origin=("https://pypi.example",)).origins == ("https://pypi.example",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", timedelta(0)),
        (0, timedelta(0)),
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("3600", timedelta(hours=1)),
        (" 2 h ", timedelta(hours=2)),
        ("+5m", timedelta(minutes=5)),
        (86400, timedelta(days=1)),
        (timedelta(minutes=90), timedelta(minutes=90)),
    ],
)
def test_duration_forms(value: object, expected: timedelta) -> None:
    assert parse(device_cooldown=value).device_cooldown == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sqlite:///tpp.sqlite", "sqlite:///tpp.sqlite"),
        ("sqlite://", "sqlite://"),
        ("postgresql://tpp:secret@db/tpp", "postgresql://tpp:secret@db/tpp"),
        ("postgresql+psycopg://db/tpp", "postgresql+psycopg://db/tpp"),
    ],
)
def test_database_urls(value: str, expected: str) -> None:
    assert parse(database_url=value).database_url == expected


@pytest.mark.parametrize(
    ("origin", "rp_id", "expected"),
    [
        ("https://pypi.example", "pypi.example", "https://pypi.example"),
        ("https://upload.pypi.example", "pypi.example", "https://upload.pypi.example"),
        ("https://pypi.example:8443", "pypi.example", "https://pypi.example:8443"),
        # Stored as browsers serialize an origin, which py_webauthn compares as a string.
        ("HTTPS://PyPI.Example:443", "pypi.example", "https://pypi.example"),
        ("http://localhost:80", "localhost", "http://localhost"),
        ("http://localhost:6543", "localhost", "http://localhost:6543"),
        ("http://app.localhost:6543", "localhost", "http://app.localhost:6543"),
        ("https://pypi.example", "PyPI.Example", "https://pypi.example"),
    ],
)
def test_origins_are_normalized(origin: str, rp_id: str, expected: str) -> None:
    assert parse(webauthn__origin=origin, webauthn__rp_id=rp_id).origins == (expected,)


def test_rp_id_is_lowercased() -> None:
    assert parse(webauthn__rp_id="PyPI.Example").rp_id == "pypi.example"


def test_duplicate_origins_are_kept_once() -> None:
    origins = "https://pypi.example https://PYPI.example:443 https://www.pypi.example https://pypi.example"
    assert parse(webauthn__origin=origins).origins == ("https://pypi.example", "https://www.pypi.example")


DURATION_FORM = 'expected a duration such as "24h", "30m", "7d" or a number of seconds, got '
ORIGIN_FORM = 'expected an origin such as "https://registry.example" or "http://localhost:6543": '
ROUTE_FORM = 'expected a path such as "/tpp" or "/admin/tpp": "/" before each segment, no trailing "/"'
HOST_FORM = 'expected a host name such as "registry.example" or "localhost" (no scheme, port or path), got '
DATABASE_FORM = 'expected an SQLAlchemy URL starting with "sqlite:", "postgresql:" or "postgresql+psycopg:", got '


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        # durations
        ("tpp.device_cooldown", "soon", DURATION_FORM + "'soon'"),
        ("tpp.device_cooldown", "1w", DURATION_FORM + "'1w'"),
        ("tpp.device_cooldown", "1.5h", DURATION_FORM + "'1.5h'"),
        ("tpp.device_cooldown", "", DURATION_FORM + "''"),
        ("tpp.device_cooldown", 1.5, DURATION_FORM + "1.5"),
        ("tpp.device_cooldown", True, DURATION_FORM + "True"),
        ("tpp.device_cooldown", None, DURATION_FORM + "None"),
        ("tpp.device_cooldown", "-1h", "tpp.device_cooldown: must not be negative, got '-1h'"),
        ("tpp.device_cooldown", -1, "must not be negative, got -1"),
        ("tpp.device_cooldown", timedelta(seconds=-1), "must not be negative, got datetime.timedelta"),
        ("tpp.device_cooldown", "999999999999999d", "tpp.device_cooldown: is too long, got '999999999999999d'"),
        ("tpp.device_cooldown", 10**30, "is too long"),
        ("tpp.request_lifetime", "0", "tpp.request_lifetime: must be longer than 0s and at most 90d, got '0'"),
        ("tpp.request_lifetime", "91d", "must be longer than 0s and at most 90d, got '91d'"),
        ("tpp.request_lifetime", "forever", "tpp.request_lifetime: " + DURATION_FORM),
        ("tpp.challenge_lifetime", "29s", "tpp.challenge_lifetime: must be between 30s and 1h, got '29s'"),
        ("tpp.challenge_lifetime", "61m", "must be between 30s and 1h, got '61m'"),
        ("tpp.challenge_lifetime", 0, "must be between 30s and 1h, got 0"),
        # database_url
        ("tpp.database_url", "mysql://db/tpp", "tpp.database_url: " + DATABASE_FORM + "'mysql://db/tpp'"),
        ("tpp.database_url", "postgres://db/tpp", DATABASE_FORM + "'postgres://db/tpp'"),
        ("tpp.database_url", "postgresql+psycopg2://db/tpp", DATABASE_FORM),
        ("tpp.database_url", "tpp.sqlite", DATABASE_FORM + "'tpp.sqlite'"),
        ("tpp.database_url", " ", "tpp.database_url: must not be empty; leave it out to use the host's SQLAlchemy"),
        ("tpp.database_url", 5, "tpp.database_url: expected a string, got 5"),
        # registry_name and rp_name
        ("tpp.registry_name", "", "tpp.registry_name: must not be empty"),
        ("tpp.registry_name", "   ", "tpp.registry_name: must not be empty"),
        ("tpp.registry_name", "x" * 201, "tpp.registry_name: must be at most 200 characters, got 201"),
        ("tpp.registry_name", "pypi\nexample", "tpp.registry_name: must be one line of printable text, got 'pypi"),
        ("tpp.registry_name", 42, "tpp.registry_name: expected a string, got 42"),
        ("tpp.webauthn.rp_name", "", "tpp.webauthn.rp_name: must not be empty"),
        ("tpp.webauthn.rp_name", "a\tb", "tpp.webauthn.rp_name: must be one line of printable text"),
        # rp_id
        ("tpp.webauthn.rp_id", "https://pypi.example", "tpp.webauthn.rp_id: " + HOST_FORM + "'https://pypi.example'"),
        ("tpp.webauthn.rp_id", "pypi.example:443", HOST_FORM + "'pypi.example:443'"),
        ("tpp.webauthn.rp_id", "pypi.example/tpp", HOST_FORM + "'pypi.example/tpp'"),
        ("tpp.webauthn.rp_id", "pypi.example.", HOST_FORM + "'pypi.example.'"),
        ("tpp.webauthn.rp_id", "pypi_example", HOST_FORM + "'pypi_example'"),
        ("tpp.webauthn.rp_id", "-pypi.example", HOST_FORM),
        ("tpp.webauthn.rp_id", "a" * 64 + ".example", HOST_FORM),
        ("tpp.webauthn.rp_id", "bücher.example", HOST_FORM),
        ("tpp.webauthn.rp_id", "", "tpp.webauthn.rp_id: must not be empty"),
        ("tpp.webauthn.rp_id", ["pypi.example"], "tpp.webauthn.rp_id: expected a string, got ['pypi.example']"),
        # origins
        ("tpp.webauthn.origin", "", 'tpp.webauthn.origin: expected at least one origin, such as "https://registry'),
        ("tpp.webauthn.origin", [], "tpp.webauthn.origin: expected at least one origin"),
        ("tpp.webauthn.origin", 5, "tpp.webauthn.origin: expected origins separated by whitespace, or a list of them"),
        ("tpp.webauthn.origin", [5], "tpp.webauthn.origin: expected a string, got 5"),
        ("tpp.webauthn.origin", "pypi.example", "tpp.webauthn.origin: " + ORIGIN_FORM),
        (
            "tpp.webauthn.origin",
            "https://pypi.example/",
            ORIGIN_FORM + "scheme://host[:port], no path, got 'https://pypi.example/'",
        ),
        ("tpp.webauthn.origin", "https://pypi.example/tpp", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://pypi.example?", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://pypi.example#top", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://ann@pypi.example", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://pypi.example:99999", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://pypi.example:0", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://pypi.example:https", ORIGIN_FORM),
        ("tpp.webauthn.origin", "ftp://pypi.example", "no path, got 'ftp://pypi.example'"),
        ("tpp.webauthn.origin", "https:pypi.example", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://", ORIGIN_FORM),
        ("tpp.webauthn.origin", "https://pypi_example", ORIGIN_FORM),
        # route_prefix
        ("tpp.route_prefix", "/tpp/", "tpp.route_prefix: " + ROUTE_FORM),
        ("tpp.route_prefix", "/", '~", "+", got \'/\''),
        ("tpp.route_prefix", "", "tpp.route_prefix: must not be empty"),
        ("tpp.route_prefix", "tpp", '~", "+", got \'tpp\''),
        ("tpp.route_prefix", "/t p", ROUTE_FORM),
        ("tpp.route_prefix", "//tpp", ROUTE_FORM),
        ("tpp.route_prefix", "/tpp?x", ROUTE_FORM),
        ("tpp.route_prefix", "/tpp/../admin", ROUTE_FORM),
        ("tpp.route_prefix", "/.", ROUTE_FORM),
        ("tpp.route_prefix", "/tp%70", ROUTE_FORM),
    ],
)
def test_invalid_values_are_named(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)) as raised:
        TPPSettings.from_settings({**MINIMAL, key: value})
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith(f"{key}: ")


@pytest.mark.parametrize(
    "value",
    ["/tpp", "/admin/tpp", "/+tpp", "/a", "/v1.2/tpp_ui~x", "/..a"],
)
def test_valid_route_prefixes(value: str) -> None:
    assert parse(route_prefix=value).route_prefix == value


@pytest.mark.parametrize("rp_id", ["127.0.0.1", "::1", "[::1]", "10.1", "0x7f.1", "192.168.0.10"])
def test_ip_address_rp_id_is_refused_with_a_hint(rp_id: str) -> None:
    problems = problems_of({**MINIMAL, "tpp.webauthn.rp_id": rp_id})
    # Only the rp_id is reported: origins are not checked against an rp_id that is itself wrong.
    assert problems == (
        f"tpp.webauthn.rp_id: {rp_id!r} is an IP address, which WebAuthn refuses as a relying-party id; "
        'use a host name, such as "localhost" for development',
    )


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [("http://pypi.example", "pypi.example"), ("http://127.0.0.1:6543", "localhost")],
)
def test_http_origin_is_refused_except_on_localhost(origin: str, rp_id: str) -> None:
    problems = problems_of({**MINIMAL, "tpp.webauthn.rp_id": rp_id, "tpp.webauthn.origin": origin})
    assert problems == (
        f"tpp.webauthn.origin: {origin!r} uses http, which browsers allow for WebAuthn only on localhost; use https",
    )


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [
        ("https://evil.example", "pypi.example"),
        # A suffix that is not a subdomain: "evilpypi.example" does not end with ".pypi.example".
        ("https://evilpypi.example", "pypi.example"),
        # A parent of the rp_id is not under it.
        ("https://example", "pypi.example"),
        ("https://127.0.0.1", "localhost"),
        ("https://[::1]:8443", "localhost"),
    ],
)
def test_origin_not_under_rp_id_is_refused(origin: str, rp_id: str) -> None:
    problems = problems_of({**MINIMAL, "tpp.webauthn.rp_id": rp_id, "tpp.webauthn.origin": origin})
    assert problems == (
        f"tpp.webauthn.origin: the host of {origin!r} is neither tpp.webauthn.rp_id ({rp_id!r}) nor a subdomain "
        "of it, so browsers would refuse WebAuthn there",
    )


def test_every_bad_origin_is_reported() -> None:
    problems = problems_of(
        {**MINIMAL, "tpp.webauthn.origin": "https://pypi.example http://pypi.example https://evil.example ftp://x"}
    )
    assert len(problems) == 3
    assert all(problem.startswith("tpp.webauthn.origin: ") for problem in problems)
    assert "'http://pypi.example' uses http" in problems[0]
    assert "'https://evil.example' is neither" in problems[1]
    assert "got 'ftp://x'" in problems[2]


@pytest.mark.parametrize("key", ["tpp.registry_name", "tpp.webauthn.rp_id", "tpp.webauthn.origin"])
def test_required_settings(key: str) -> None:
    settings = {k: v for k, v in MINIMAL.items() if k != key}
    (problem,) = problems_of(settings)
    assert problem.startswith(f"{key}: is required; expected ")


def test_nothing_set_reports_each_required_setting() -> None:
    with pytest.raises(SettingsError) as raised:
        TPPSettings.from_settings({"pyramid.reload_templates": "true"})
    assert str(raised.value) == "\n".join(
        [
            "3 problems in the tpp.* settings:",
            'tpp.registry_name: is required; expected the registry\'s public name, such as "https://pypi.example"',
            'tpp.webauthn.rp_id: is required; expected a host name such as "registry.example" or "localhost" '
            "(no scheme, port or path)",
            "tpp.webauthn.origin: is required; expected one or more origins, such as "
            '"https://registry.example" or "http://localhost:6543"',
        ]
    )


def test_several_problems_are_all_reported_each_on_its_own_line() -> None:
    with pytest.raises(SettingsError) as raised:
        TPPSettings.from_settings(
            {
                "tpp.registry_name": "",
                "tpp.webauthn.rp_id": "pypi.example",
                "tpp.webauthn.origin": "https://pypi.example",
                "tpp.device_cooldown": "soon",
                "tpp.request_lifetime": "0",
                "tpp.route_prefix": "/tpp/",
                "tpp.bogus": "1",
            }
        )
    lines = str(raised.value).splitlines()
    assert lines[0] == "5 problems in the tpp.* settings:"
    assert lines[1:] == list(raised.value.problems)
    assert [line.split(":", 1)[0] for line in lines[1:]] == [
        "tpp.bogus",
        "tpp.registry_name",
        "tpp.route_prefix",
        "tpp.device_cooldown",
        "tpp.request_lifetime",
    ]


def test_unknown_key_is_reported_with_the_known_keys() -> None:
    with pytest.raises(SettingsError, match=re.escape("tpp.device_cooldwon: unknown setting")) as raised:
        parse(device_cooldwon="0")
    assert raised.value.problems == (
        "tpp.device_cooldwon: unknown setting (did you mean tpp.device_cooldown?); the known settings are "
        + ", ".join(KNOWN_KEYS),
    )


def test_unknown_key_without_a_close_match() -> None:
    (problem,) = problems_of({**MINIMAL, "tpp.zzz": "1"})
    assert problem == "tpp.zzz: unknown setting; the known settings are " + ", ".join(KNOWN_KEYS)


def test_other_settings_are_ignored() -> None:
    # Any: Pyramid's keys are strings, but a host's code could add others; they must not break us.
    settings: dict[Any, object] = {**MINIMAL, "pyramid.includes": "x", "tppx.thing": "1", "tpp": "x", 3: "not a str"}
    assert TPPSettings.from_settings(settings) == TPPSettings.from_settings(MINIMAL)


def test_database_password_stays_out_of_messages_and_repr() -> None:
    (problem,) = problems_of({**MINIMAL, "tpp.database_url": "mysql://tpp:s3cr@t/x@db/tpp"})
    assert "s3cr" not in problem
    assert problem.endswith("got 'mysql://tpp:***@db/tpp'")
    settings = parse(database_url="postgresql://tpp:s3cret@db/tpp")
    assert "s3cret" not in repr(settings)
    assert settings.database_url == "postgresql://tpp:s3cret@db/tpp"


def test_settings_error_is_a_value_error_and_a_tpp_error() -> None:
    error = SettingsError("tpp.a: one", "tpp.b: two")
    assert isinstance(error, ValueError)
    assert isinstance(error, InvalidInput)
    assert isinstance(error, TPPError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == ("tpp.a: one", "tpp.b: two")
    assert str(copy) == str(error) == "2 problems in the tpp.* settings:\ntpp.a: one\ntpp.b: two"
    assert str(SettingsError("tpp.a: one")) == "tpp.a: one"


def test_settings_are_frozen_and_slotted() -> None:
    settings = TPPSettings.from_settings(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.rp_id = "evil.example"  # type: ignore[misc]
    assert not hasattr(settings, "__dict__")
    assert hash(settings) == hash(TPPSettings.from_settings(MINIMAL))
    with pytest.raises(TypeError):
        TPPSettings("pypi.example", ("https://pypi.example",), "https://pypi.example")  # type: ignore[call-arg]


def test_direct_construction_checks_and_normalizes() -> None:
    settings = TPPSettings(
        registry_name=" https://pypi.example ",
        rp_id="PyPI.example",
        origins=["https://PYPI.example:443"],  # type: ignore[arg-type]
    )
    assert (settings.registry_name, settings.rp_id, settings.origins) == (
        "https://pypi.example",
        "pypi.example",
        ("https://pypi.example",),
    )
    with pytest.raises(SettingsError) as raised:
        TPPSettings(
            registry_name="https://pypi.example",
            rp_id="127.0.0.1",
            origins=("http://127.0.0.1",),
            challenge_lifetime=timedelta(days=1),
        )
    assert [problem.split(":", 1)[0] for problem in raised.value.problems] == [
        "tpp.webauthn.rp_id",
        "tpp.webauthn.origin",
        "tpp.challenge_lifetime",
    ]


def test_public_surface() -> None:
    assert settings_module.__all__ == ["SettingsError", "TPPSettings"]
    assert dir(settings_module) == ["SettingsError", "TPPSettings"]


def test_notification_settings_from_ini_strings(tmp_path: Path) -> None:
    key, _public = generate(tmp_path)
    settings = parse(
        redis_url=" redis://:secret@127.0.0.1:6379/2 ",
        queue_name="tpp-prod",
        vapid__private_key=str(key),
        vapid__subject="mailto:ops@pypi.example",
        push__ttl="2h",
        push__retry_intervals="0 30s\n 5m",
        reminder_interval="12h",
    )
    assert settings.redis_url == "redis://:secret@127.0.0.1:6379/2"
    assert "secret" not in repr(settings)
    assert (settings.queue_name, settings.vapid_private_key, settings.vapid_subject) == (
        "tpp-prod",
        str(key),
        "mailto:ops@pypi.example",
    )
    assert settings.push_ttl == timedelta(hours=2)
    assert settings.push_retry_intervals == (timedelta(0), timedelta(seconds=30), timedelta(minutes=5))
    assert settings.reminder_interval == timedelta(hours=12)
    assert parse(push__retry_intervals=[timedelta(0)]).push_retry_intervals == (timedelta(0),)


def test_settings_are_parsed_once(tmp_path: Path) -> None:
    """Each value is parsed once: the VAPID key file is loaded once, not again for the object."""
    key, _public = generate(tmp_path)
    load.cache_clear()
    parse(vapid__private_key=str(key), vapid__subject="mailto:ops@pypi.example")
    info = load.cache_info()
    assert (info.misses, info.hits) == (1, 0)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("tpp.redis_url", "http://127.0.0.1:6379", 'tpp.redis_url: expected a Redis URL such as "redis://'),
        ("tpp.redis_url", "postgresql://u:pw@db", "got 'postgresql://u:***@db'"),
        ("tpp.redis_url", "", "tpp.redis_url: must not be empty"),
        ("tpp.queue_name", "tpp queue", "tpp.queue_name: expected a queue name of letters, digits"),
        ("tpp.queue_name", "x" * 65, "tpp.queue_name: expected a queue name"),
        ("tpp.vapid.private_key", "/nonexistent/tpp-vapid.pem", "tpp.vapid.private_key: cannot read /nonexistent"),
        ("tpp.vapid.subject", "ops@pypi.example", "tpp.vapid.subject: expected how push services can reach"),
        ("tpp.vapid.subject", "http://pypi.example", "got 'http://pypi.example'"),
        ("tpp.push.ttl", "29d", "tpp.push.ttl: must be between 0s and 28d, got '29d'"),
        ("tpp.push.retry_intervals", "", "tpp.push.retry_intervals: expected 1 to 20 durations"),
        ("tpp.push.retry_intervals", "1m 2d", "tpp.push.retry_intervals: each interval must be between 0s and 1d"),
        ("tpp.push.retry_intervals", "-1s", "each interval must be between 0s and 1d"),
        ("tpp.push.retry_intervals", "soon", "tpp.push.retry_intervals: " + DURATION_FORM + "'soon'"),
        ("tpp.push.retry_intervals", 5, "tpp.push.retry_intervals: expected durations separated by whitespace"),
        ("tpp.reminder_interval", "30s", "tpp.reminder_interval: must be at least 1m, got '30s'"),
    ],
)
def test_invalid_notification_settings_are_named(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)) as raised:
        TPPSettings.from_settings({**MINIMAL, key: value})
    assert len(raised.value.problems) == 1


def test_a_vapid_key_needs_a_subject_and_a_pem_file(tmp_path: Path) -> None:
    key, _public = generate(tmp_path)
    assert problems_of({**MINIMAL, "tpp.vapid.private_key": str(key)}) == (
        "tpp.vapid.subject: is required with tpp.vapid.private_key; expected how push services can reach the "
        'operators: "mailto:ops@registry.example" or an https:// URL',
    )
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    [problem] = problems_of({**MINIMAL, "tpp.vapid.private_key": str(garbage), "tpp.vapid.subject": "mailto:a@b"})
    assert problem == f"tpp.vapid.private_key: {garbage} is not a PEM private key; make one with `tpp vapid generate`"
