"""Checked names for the values TPP passes around: people, projects, digests, request ids.

Each checker returns a :func:`typing.NewType` so that a value which passed it cannot be confused with a
plain string downstream, as ``packaging.utils.NormalizedName`` does.

>>> canonicalize_project("Acme_Tools.Core")
'acme-tools-core'
>>> person_id("alice")
'alice'
"""

from __future__ import annotations

import re
from typing import NewType

from .errors import InvalidInput

__all__ = [
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

#: A registry user name, checked by :func:`person_id`.
PersonId = NewType("PersonId", str)
#: A PEP 503-normalized project name, made by :func:`canonicalize_project`.
ProjectName = NewType("ProjectName", str)
#: An adapter-generated request id, checked by :func:`request_id`.
RequestId = NewType("RequestId", str)
#: 64 lowercase hex digits, checked by :func:`sha256_hex`.
Sha256 = NewType("Sha256", str)

# The registries we plug into name users with short printable tokens (devpi: [A-Za-z0-9._-];
# Warehouse: the same plus a 50-character limit); we accept that union and nothing looser, so a
# person's id can appear unescaped in messages, manifests and URLs.
_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._@+-]{0,98}[A-Za-z0-9])?")
# PEP 508 project names, as packaging validates them.
_PROJECT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SEPARATORS = re.compile(r"[-_.]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def person_id(value: object) -> PersonId:
    """Check a person's id (a registry user name).

    >>> person_id("bob@example.org")
    'bob@example.org'

    :raises InvalidInput: if ``value`` is not a short printable token.
    """
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise InvalidInput(f"invalid person id: {value!r}")
    return PersonId(value)


def request_id(value: object) -> RequestId:
    """Check a request id, which adapters generate and put into URLs.

    >>> request_id("r-7f3a")
    'r-7f3a'

    :raises InvalidInput: if ``value`` is not a short printable token.
    """
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise InvalidInput(f"invalid request id: {value!r}")
    return RequestId(value)


def canonicalize_project(name: object) -> ProjectName:
    """Normalize a project name the PEP 503 way, so ``Acme_Tools`` and ``acme-tools`` are one project.

    >>> canonicalize_project("Foo.Bar__baz")
    'foo-bar-baz'

    :raises InvalidInput: if ``name`` is not a valid project name.
    """
    if not isinstance(name, str) or not _PROJECT.fullmatch(name):
        raise InvalidInput(f"invalid project name: {name!r}")
    return ProjectName(_SEPARATORS.sub("-", name).lower())


def canonicalize_prefix(prefix: object) -> str:
    """Normalize a namespace prefix like a project name, keeping a trailing separator.

    >>> canonicalize_prefix("Acme_")
    'acme-'

    :raises InvalidInput: if ``prefix`` could not start a project name.
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise InvalidInput(f"invalid project name prefix: {prefix!r}")
    return _SEPARATORS.sub("-", prefix).lower()


def sha256_hex(value: object) -> Sha256:
    """Check a sha256 digest written as 64 lowercase hex digits, the form registries store.

    >>> sha256_hex("AB" * 32)
    Traceback (most recent call last):
    ...
    tpp_core.errors.InvalidInput: invalid sha256 digest: 'ABAB...' (expected 64 lowercase hex digits)

    :raises InvalidInput: if ``value`` is not such a digest.
    """
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        shown = f"{value[:4]}..." if isinstance(value, str) and len(value) > 8 else value
        raise InvalidInput(f"invalid sha256 digest: {shown!r} (expected 64 lowercase hex digits)")
    return Sha256(value)


def __dir__() -> list[str]:
    return __all__
