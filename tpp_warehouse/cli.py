"""The ``tpp`` command line.

Usage::

    tpp policy check policy.json                      # is this policy valid, and what does it ask?
    tpp policy check policy.json --uploader ann --approved ann bob   # would these approvals do?
    tpp db upgrade --url postgresql+psycopg://registry@db/registry     # create or migrate TPP's tables
    tpp audit verify --url postgresql+psycopg://registry@db/registry   # check the whole audit chain
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tpp_core import ApprovalGroup, Policy, TPPError, evaluate, person_id


def _describe(group: ApprovalGroup) -> str:
    limits = [f"not {p}" for p in sorted(group.excluded)]
    if group.exclude_uploader:
        limits.append("not the uploader")
    extra = f" ({'; '.join(limits)})" if limits else ""
    return f"  {group.name}: {group.seats} of {', '.join(sorted(group.members))}{extra}"


def _policy_check(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        policy = Policy.from_dict(data)
        uploader = None if args.uploader is None else person_id(args.uploader)
        approvers = [person_id(a) for a in args.approved]
    except OSError as error:
        return _fail(f"{path}: cannot read: {error.strerror}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return _fail(f"{path}: not valid JSON: {error}")
    except TPPError as error:
        return _fail(f"{path}: {error}")
    print(f"{policy.scope}: policy v{policy.version} is valid; every group needs its seats filled by distinct people")
    for group in policy.groups:
        print(_describe(group))
    if args.approved or args.uploader is not None:
        print(f"with those approvals: {evaluate(policy, uploader=uploader, approvers=approvers)}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    # Imported here: the policy commands must work without the database libraries installed.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from .migrate import current_revision, head_revision, upgrade

    url = _database_url(args)
    if not url:
        return _fail("no database: pass --url or set TPP_DATABASE_URL")
    try:
        shown = make_url(url).render_as_string(hide_password=True)
        before = current_revision(url)
        upgrade(url)
    except ArgumentError:
        return _fail(f"not a database URL: {url!r} (e.g. sqlite:///tpp.sqlite or postgresql+psycopg://host/db)")
    except SQLAlchemyError as error:
        return _fail(f"cannot migrate {shown}: {error.__class__.__name__}: {str(error).splitlines()[0]}")
    head = head_revision()
    if before == head:
        print(f"{shown}: TPP tables already at {head} (the newest)")
    else:
        print(f"{shown}: TPP tables upgraded from {before or 'nothing'} to {head}")
    return 0


def _database_url(args: argparse.Namespace) -> str | None:
    url: str | None = args.url or os.environ.get("TPP_DATABASE_URL")
    return url


def _audit_verify(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from tpp_core import AuditChainBroken

    from .audit import DatabaseAuditLog
    from .db import make_engine

    url = _database_url(args)
    if not url:
        return _fail("no database: pass --url or set TPP_DATABASE_URL")
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            log = DatabaseAuditLog(session)
            count = log.verify()
            head = log.head()
    except AuditChainBroken as error:
        return _fail(f"the audit chain is broken: {error}")
    except SQLAlchemyError as error:
        return _fail(f"cannot read the audit log: {error.__class__.__name__}: {str(error).splitlines()[0]}")
    finally:
        engine.dispose()
    print(f"{count} audit entries, chain intact" + (f"; head {head.hash}" if head else ""))
    return 0


def _fail(message: str) -> int:
    print(f"tpp: error: {message}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tpp", description="Trustable Package Publication")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    policy = commands.add_parser("policy", help="work with approval policies")
    policy_commands = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = policy_commands.add_parser(
        "check", help="validate a policy file (JSON) and, optionally, evaluate approvals against it"
    )
    check.add_argument("file", type=Path, help="the policy as JSON, in the form Policy.to_dict() writes")
    check.add_argument("--uploader", metavar="PERSON", help="who uploaded, for uploader exclusions")
    check.add_argument("--approved", nargs="*", default=[], metavar="PERSON", help="who approved, in order")
    check.set_defaults(run=_policy_check)
    db = commands.add_parser("db", help="manage TPP's database tables")
    db_commands = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="create TPP's tables or migrate them to this version")
    db_upgrade.add_argument("--url", help="SQLAlchemy database URL (default: $TPP_DATABASE_URL)")
    db_upgrade.set_defaults(run=_db_upgrade)
    audit = commands.add_parser("audit", help="check TPP's hash-chained audit log")
    audit_commands = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = audit_commands.add_parser("verify", help="verify every entry of the audit chain")
    verify.add_argument("--url", help="SQLAlchemy database URL (default: $TPP_DATABASE_URL)")
    verify.set_defaults(run=_audit_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 1 a problem it names, 2 usage)."""
    args = _parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
