"""The ``tpp`` command line: clear output, and a named problem (never a traceback) for bad input."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

from tests.common.scenario import brief_policy
from tpp_warehouse.cli import main


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(brief_policy().to_dict()))
    return path


def test_check_describes_a_valid_policy(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(policy_file)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "acme: policy v1 is valid; every group needs its seats filled by distinct people",
        "  lead: 1 of lead",
        "  core-team: 1 of bob, cora, lead (not lead)",
        "  company: 1 of cora, dave, lead (not lead)",
    ]


def test_check_evaluates_approvals(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(policy_file), "--uploader", "lead", "--approved", "lead", "cora"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "with those approvals: company needs 1 more; eligible: bob, dave"


def test_uploader_exclusion_is_described(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.json"
    group = {"name": "review", "members": ["ann", "bob"], "exclude_uploader": True}
    path.write_text(json.dumps({"scope": {"kind": "prefix", "value": "acme-"}, "version": 1, "groups": [group]}))
    assert main(["policy", "check", str(path), "--uploader", "ann", "--approved", "bob"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "acme-*: policy v1 is valid; every group needs its seats filled by distinct people",
        "  review: 1 of ann, bob (not the uploader)",
        "with those approvals: satisfied",
    ]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "cannot read: No such file or directory"),
        ("{not json", [], "not valid JSON: Expecting property name"),
        (b"\xff\xfe", [], "not valid JSON"),
        ('{"scope": {"kind": "project", "value": "acme"}, "version": 1, "groups": []}', [], "at least one approval"),
        (
            json.dumps(brief_policy().to_dict()),
            ["--uploader", "bad name"],
            "invalid person id: 'bad name'",
        ),
    ],
)
def test_bad_input_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, args: list[str], message: str
) -> None:
    path = tmp_path / "policy.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert main(["policy", "check", str(path), *args]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"tpp: error: {path}: ")
    assert message in captured.err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["policy"])
    assert exit_info.value.code == 2
    assert "ACTION" in capsys.readouterr().err


def test_serve_comes_from_the_devpi_plugin_and_says_what_is_missing_without_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (serve,) = entry_points(group="tpp.commands")
    assert (serve.name, serve.module, serve.attr, serve.extras) == (
        "serve",
        "tpp_devpi.command",
        "add_command",
        ["devpi"],
    )

    def not_installed() -> object:
        raise ImportError("No module named 'devpi_server'")

    broken = EntryPoint(name="serve", value="tpp_devpi.command:add_command [devpi]", group="tpp.commands")
    monkeypatch.setattr(EntryPoint, "load", lambda entry: not_installed())
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [broken])
    assert main(["serve", "--port", "1"]) == 1
    assert capsys.readouterr().err == (
        "tpp: error: tpp serve needs more of TPP installed: pip install 'tpp[devpi]' (No module named 'devpi_server')\n"
    )


def test_the_installed_console_script_runs(policy_file: Path) -> None:
    tpp = shutil.which("tpp")
    assert tpp is not None, "the tpp console script is not installed; run pip install -e '.[test]'"
    result = subprocess.run([tpp, "policy", "check", str(policy_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme: policy v1 is valid")


def test_db_upgrade_creates_then_reports_up_to_date(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tpp_warehouse.migrate import current_revision, head_revision

    assert main(["db", "upgrade", "--url", database_url]) == 0
    assert capsys.readouterr().out.endswith(f"TPP tables upgraded from nothing to {head_revision()}\n")
    assert current_revision(database_url) == head_revision()
    assert main(["db", "upgrade", "--url", database_url]) == 0
    assert capsys.readouterr().out.endswith(f"TPP tables already at {head_revision()} (the newest)\n")


def test_db_upgrade_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TPP_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "env.sqlite").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "no database: pass --url or set TPP_DATABASE_URL"),
        ("not a url", "not a database URL: 'not a url'"),
        ("sqlite:////nonexistent-dir/x.sqlite", "cannot migrate sqlite:////nonexistent-dir/x.sqlite: OperationalError"),
        (
            "postgresql+psycopg://nobody:secret@127.0.0.1:1/x",
            "cannot migrate postgresql+psycopg://nobody:***@127.0.0.1:1/x",
        ),
    ],
)
def test_db_upgrade_names_the_problem(
    url: str | None, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TPP_DATABASE_URL", raising=False)
    assert main(["db", "upgrade", *(["--url", url] if url else [])]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"tpp: error: {message}")
    assert "secret" not in captured.err


def test_audit_verify(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from tpp_core import RecordAudit
    from tpp_warehouse.audit import DatabaseAuditLog
    from tpp_warehouse.db import make_engine
    from tpp_warehouse.models import AuditRecord

    assert main(["db", "upgrade", "--url", database_url]) == 0
    assert main(["audit", "verify", "--url", database_url]) == 0
    assert capsys.readouterr().out.endswith("0 audit entries, chain intact\n")
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        log = DatabaseAuditLog(session)
        for n in range(3):
            at = datetime(2026, 1, 1, n, tzinfo=UTC)
            last = log.record(RecordAudit(at=at, kind="tpp:request:opened", actor=None, subject="request:r", data={}))
    assert main(["audit", "verify", "--url", database_url]) == 0
    assert capsys.readouterr().out.endswith(f"3 audit entries, chain intact; head {last.hash}\n")
    with Session(engine) as session, session.begin():
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="mallory"))
    engine.dispose()
    assert main(["audit", "verify", "--url", database_url]) == 1
    assert capsys.readouterr().err == "tpp: error: the audit chain is broken: audit entry 2 was altered\n"


def test_audit_verify_names_a_missing_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--url", "postgresql+psycopg://nobody:secret@127.0.0.1:1/x"]) == 1
    assert capsys.readouterr().err.startswith("tpp: error: cannot read the audit log: OperationalError")
