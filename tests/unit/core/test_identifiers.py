"""Checked identifiers: people, requests, project names, prefixes and sha256 digests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tpp_core import identifiers
from tpp_core.errors import InvalidInput
from tpp_core.identifiers import (
    canonicalize_prefix,
    canonicalize_project,
    person_id,
    request_id,
    sha256_hex,
)

# A registry user name or request id: short printable tokens, nothing a URL, a message or a manifest
# would have to escape.
VALID_TOKENS = [
    "a",
    "0",
    "alice",
    "Alice42",
    "bob@example.org",
    "a.b_c-d+e",
    "r-7f3a",
    "a" * 100,
]

INVALID_TOKENS = [
    pytest.param("", id="empty"),
    pytest.param("a" * 101, id="too-long"),
    pytest.param("-alice", id="leading-dash"),
    pytest.param(".alice", id="leading-dot"),
    pytest.param("alice-", id="trailing-dash"),
    pytest.param("alice@", id="trailing-at"),
    pytest.param("al ice", id="space"),
    pytest.param("alice\n", id="trailing-newline"),
    pytest.param("al\x00ice", id="nul"),
    pytest.param("al\tice", id="tab"),
    pytest.param("ali/ce", id="slash"),
    pytest.param("ali\\ce", id="backslash"),
    pytest.param("..", id="dot-dot"),
    pytest.param("<script>", id="markup"),
    pytest.param("al%2Fice", id="percent-escape"),
    pytest.param("\u00e5lice", id="non-ascii-letter"),
    pytest.param("\uff41lice", id="fullwidth-letter"),
    pytest.param("\u0661", id="arabic-indic-digit"),
    pytest.param(None, id="none"),
    pytest.param(5, id="int"),
    pytest.param(b"alice", id="bytes"),
    pytest.param(["alice"], id="list"),
]

TOKEN_CHECKERS: list[tuple[Callable[[object], str], str]] = [
    (person_id, "invalid person id"),
    (request_id, "invalid request id"),
]


@pytest.mark.parametrize("value", VALID_TOKENS)
@pytest.mark.parametrize("check", [person_id, request_id])
def test_tokens_accepted_unchanged(check: Callable[[object], str], value: str) -> None:
    assert check(value) == value


@pytest.mark.parametrize("value", INVALID_TOKENS)
@pytest.mark.parametrize(("check", "message"), TOKEN_CHECKERS, ids=["person_id", "request_id"])
def test_tokens_refused(check: Callable[[object], str], message: str, value: object) -> None:
    with pytest.raises(InvalidInput, match=f"{message}: {re.escape(repr(value))}$"):
        check(value)


def test_invalid_input_is_a_value_error() -> None:
    """Generic callers that catch ValueError see bad identifiers as what they are."""
    with pytest.raises(ValueError, match="invalid person id"):
        person_id("")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("acme", "acme"),
        ("Acme", "acme"),
        ("ACME", "acme"),
        ("a", "a"),
        ("1", "1"),
        ("Acme_Tools.Core", "acme-tools-core"),
        ("Foo.Bar__baz", "foo-bar-baz"),
        ("foo--bar", "foo-bar"),
        ("foo-_.bar", "foo-bar"),
        ("foo.bar", "foo-bar"),
        ("zope.interface", "zope-interface"),
        ("a1-2b", "a1-2b"),
    ],
)
def test_canonicalize_project(name: str, expected: str) -> None:
    assert canonicalize_project(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("-acme", id="leading-dash"),
        pytest.param("acme-", id="trailing-dash"),
        pytest.param("_acme", id="leading-underscore"),
        pytest.param("acme.", id="trailing-dot"),
        pytest.param("ac me", id="space"),
        pytest.param("acme/evil", id="slash"),
        pytest.param("../acme", id="parent-dir"),
        pytest.param("acme\\evil", id="backslash"),
        pytest.param("acme\n", id="trailing-newline"),
        pytest.param("ac\x00me", id="nul"),
        pytest.param("acme*", id="glob"),
        pytest.param("\u0192oo", id="non-ascii"),
        pytest.param(None, id="none"),
        pytest.param(3, id="int"),
        pytest.param(b"acme", id="bytes"),
    ],
)
def test_canonicalize_project_refuses(name: object) -> None:
    with pytest.raises(InvalidInput, match=f"invalid project name: {re.escape(repr(name))}$"):
        canonicalize_project(name)


@pytest.mark.property
@given(st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9])?", fullmatch=True))
def test_canonical_project_names_are_fixed_points(name: str) -> None:
    """Canonicalizing twice changes nothing, and the result has no upper case or separator runs."""
    canonical = canonicalize_project(name)
    assert canonicalize_project(canonical) == canonical
    assert canonical == canonical.lower()
    assert not re.search(r"[._]|--", canonical)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("acme", "acme"),
        ("Acme_", "acme-"),
        ("acme-", "acme-"),
        ("Acme.._", "acme-"),
        ("a", "a"),
        ("ACME.tools.", "acme-tools-"),
    ],
)
def test_canonicalize_prefix(prefix: str, expected: str) -> None:
    assert canonicalize_prefix(prefix) == expected


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("", id="empty"),
        pytest.param("-", id="dash-only"),
        pytest.param("_acme", id="leading-underscore"),
        pytest.param("acme*", id="glob"),
        pytest.param("acme/", id="slash"),
        pytest.param("acme ", id="space"),
        pytest.param("acme\n", id="trailing-newline"),
        pytest.param(None, id="none"),
        pytest.param(1, id="int"),
    ],
)
def test_canonicalize_prefix_refuses(prefix: object) -> None:
    with pytest.raises(InvalidInput, match=f"invalid project name prefix: {re.escape(repr(prefix))}$"):
        canonicalize_prefix(prefix)


@pytest.mark.parametrize(
    "digest",
    [
        "ab" * 32,
        "0" * 64,
        "f" * 64,
        hashlib.sha256(b"").hexdigest(),
        "0123456789abcdef" * 4,
    ],
)
def test_sha256_hex_accepts_lowercase_digests(digest: str) -> None:
    assert sha256_hex(digest) == digest


@pytest.mark.parametrize(
    ("digest", "shown"),
    [
        pytest.param("AB" * 32, "'ABAB...'", id="uppercase"),
        pytest.param("Ab" * 32, "'AbAb...'", id="mixed-case"),
        pytest.param("ab" * 31, "'abab...'", id="62-digits"),
        pytest.param("ab" * 32 + "a", "'abab...'", id="65-digits"),
        pytest.param("g" * 64, "'gggg...'", id="not-hex"),
        pytest.param("ab" * 32 + "\n", "'abab...'", id="trailing-newline"),
        pytest.param(" " + "ab" * 32, "' aba...'", id="leading-space"),
        pytest.param("0x" + "ab" * 31, "'0xab...'", id="0x-prefix"),
        pytest.param("sha256:" + "ab" * 32, "'sha2...'", id="algorithm-prefix"),
        pytest.param("", "''", id="empty"),
        pytest.param("abcdef12", "'abcdef12'", id="short-shown-whole"),
        pytest.param(None, "None", id="none"),
        pytest.param(64, "64", id="int"),
        pytest.param(b"ab" * 2, "b'abab'", id="bytes"),
    ],
)
def test_sha256_hex_refuses(digest: object, shown: str) -> None:
    """Long strings are shortened in the message, so a 64-digit near-miss is not echoed whole."""
    with pytest.raises(InvalidInput, match=re.escape(f"invalid sha256 digest: {shown} (expected 64 lowercase hex")):
        sha256_hex(digest)


def test_public_names() -> None:
    assert dir(identifiers) == [
        "PersonId",
        "ProjectName",
        "RequestId",
        "Sha256",
        "canonicalize_prefix",
        "canonicalize_project",
        "person_id",
        "request_id",
        "sha256_hex",
    ]
