"""Access to the real services the integration tests use, failing (not skipping) under CI.

A developer without PostgreSQL or Redis gets a skip that says what to start; CI (``CI`` set) gets a
failure, because a suite that silently skipped its integration tests proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

POSTGRESQL_URL = os.environ.get("TPP_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TPP_TEST_REDIS", "redis://127.0.0.1:6379/15")


def require(service: str, connect: Callable[[], T]) -> T:
    """Return ``connect()``; if it fails, fail the test under CI and skip it elsewhere."""
    try:
        return connect()
    except Exception as error:  # any failure to connect means the service is not usable here
        message = f"{service} is not reachable ({type(error).__name__}: {error})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must provide it", pytrace=False)
        pytest.skip(f"{message}; start it to run this test")
