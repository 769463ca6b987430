"""``tpp vapid generate``, ``tpp tick`` and ``tpp worker``: what operators run, with named problems."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, wheel
from tests.common.webapp import write_ini
from tpp_warehouse.cli import main
from tpp_warehouse.models import NotificationRecord
from tpp_warehouse.vapid import load


def ini(tmp_path: Path, engine: Engine, **settings: str) -> Path:
    return write_ini(tmp_path, engine.url.render_as_string(hide_password=False), **settings)


def test_vapid_generate_writes_a_key_pair_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vapid", "generate", "--dir", str(tmp_path)]) == 0
    private_key = tmp_path / "tpp-vapid.pem"
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    public_key = load(str(private_key)).application_server_key
    assert (tmp_path / "tpp-vapid.pub").read_text() == public_key + "\n"
    out = capsys.readouterr().out.splitlines()
    assert f"    tpp.vapid.private_key = {private_key.resolve()}" in out
    assert out[-1] == f"application server key (public, for browsers): {public_key}"
    before = private_key.read_bytes()
    assert main(["vapid", "generate", "--dir", str(tmp_path)]) == 1
    assert "exists; keep it, or remove it first to start over" in capsys.readouterr().err
    assert private_key.read_bytes() == before


def test_vapid_generate_names_a_directory_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vapid", "generate", "--dir", str(tmp_path / "missing")]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_tick_expires_what_is_overdue(engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Session(engine) as session:
        registry = Registry(session)
        registry.enrol("lead", "cora", "bob", "dave")
        registry.set_policy(brief_policy())
        registry.upload("acme", "1.0", wheel())
        session.commit()
        late = (registry.now + registry.settings.request_lifetime).isoformat()
    config = ini(tmp_path, engine)
    assert main(["tick", str(config), "--at", late]) == 0
    assert capsys.readouterr().out == "expired 1 request(s), wrote 0 reminder(s), queued 0 push(es)\n"
    assert main(["tick", str(config), "--at", late]) == 0
    assert capsys.readouterr().out.startswith("expired 0 request(s)")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tpp.reminder_interval": "5s"}, "tpp.reminder_interval: must be at least 1m, got '5s'"),
        ({"tpp.redis_url": "redis://127.0.0.1:1/0"}, "cannot reach Redis"),
    ],
)
def test_tick_names_the_problem(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: dict[str, str], message: str
) -> None:
    with Session(engine) as session:  # something to send, so Redis is needed
        registry = Registry(session)
        [device] = registry.enrol("ann")
        device.push_subscription = {"endpoint": "https://push.example/ann", "keys": {}}
        session.add(NotificationRecord(person="ann", subject="request:r1", reason="reminder", created_at=registry.now))
        session.commit()
    assert main(["tick", str(ini(tmp_path, engine, **settings))]) == 1
    assert message in capsys.readouterr().err


def test_tick_names_a_missing_file_and_a_bad_time(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tick", str(tmp_path / "nope.ini")]) == 1
    assert "nope.ini" in capsys.readouterr().err
    assert main(["tick", str(ini(tmp_path, engine)), "--at", "2026-01-01T12:00:00"]) == 1
    assert "needs a timezone" in capsys.readouterr().err


def test_worker_is_not_needed_without_redis(engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", str(ini(tmp_path, engine)), "--burst"]) == 1
    assert "tpp.redis_url is not set, so jobs run inside the registry; no worker is needed" in capsys.readouterr().err
