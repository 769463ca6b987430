"""The real services answer, and a missing one fails under CI instead of skipping."""

from __future__ import annotations

import psycopg
import pytest
import redis

from tests.common.services import POSTGRESQL_URL, REDIS_URL, require


def refuse() -> None:
    raise ConnectionRefusedError("nothing listens on 127.0.0.1:1")


def test_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"nothing listens.*CI must provide it"):
        require("PostgreSQL", refuse)


def test_missing_service_skips_for_a_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="start it to run this test"):
        require("Redis", refuse)


@pytest.mark.service
def test_postgresql_answers() -> None:
    with require("PostgreSQL", lambda: psycopg.connect(POSTGRESQL_URL, connect_timeout=5)) as connection:
        assert connection.execute("select 1 + 1").fetchone() == (2,)


@pytest.mark.service
def test_redis_answers() -> None:
    client = require("Redis", lambda: redis.Redis.from_url(REDIS_URL, socket_timeout=5))
    with client:
        assert require("Redis", client.ping) is True
