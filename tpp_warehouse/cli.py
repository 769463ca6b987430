"""The ``tpp`` command line.

Usage::

    tpp policy check policy.json                      # is this policy valid, and what does it ask?
    tpp policy check policy.json --uploader ann --approved ann bob   # would these approvals do?
    tpp db upgrade --url postgresql+psycopg://registry@db/registry     # create or migrate TPP's tables
    tpp audit verify --url postgresql+psycopg://registry@db/registry   # check the whole audit chain
    tpp serve                                         # a gated registry on localhost:3141 (devpi)
    tpp vapid generate --dir /etc/registry            # the Web Push key pair, once
    tpp tick registry.ini                             # expire, remind, send what waits (from cron)
    tpp worker registry.ini                           # run TPP's rq jobs (with tpp.redis_url)
    tpp worker --app tpp_warehouse.warehouse:configure   # the same for an app configured in code
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def _vapid_generate(args: argparse.Namespace) -> int:
    from .vapid import VapidKeyError, generate

    try:
        private_key, public_key = generate(args.dir)
    except VapidKeyError as error:
        return _fail(str(error))
    print(f"wrote {private_key} (secret, mode 0600) and {private_key.with_suffix('.pub')}")
    print("add to the [app:main] section of the registry's .ini file:")
    print(f"    tpp.vapid.private_key = {private_key.resolve()}")
    print("    tpp.vapid.subject = mailto:registry-admins@example.org")
    print(f"application server key (public, for browsers): {public_key}")
    return 0


@contextmanager
def _registry(args: argparse.Namespace) -> Iterator[Any]:
    """The Pyramid registry of the registry's app: the one its .ini file describes (``config``), or
    the one ``--app`` builds in code (as Warehouse's ``configure()`` does, reading its environment);
    its settings, host and database."""
    if args.app is not None:
        registry = _app_registry(args.app)
    else:
        from pyramid.paster import bootstrap, setup_logging

        setup_logging(str(args.config))
        env = bootstrap(str(args.config))
        env["closer"]()
        registry = env["registry"]
    try:
        yield registry
    finally:
        registry["tpp.queue"].close()
        if "tpp.engine" in registry:
            registry["tpp.engine"].dispose()


def _app_registry(dotted: str) -> Any:
    """Call ``module:callable`` and take the registry of what it returns: a configurator, an app
    or a registry that includes TPP."""
    from pyramid.path import DottedNameResolver

    try:
        built = DottedNameResolver().resolve(dotted)()
    except Exception as error:  # the app's own configuration failed: say so in one line
        raise LookupError(f"cannot build the app: {type(error).__name__}: {error}") from error
    registry = getattr(built, "registry", built)
    if not hasattr(registry, "get") or registry.get("tpp.settings") is None:
        raise LookupError(f"{dotted}() returned {type(built).__name__}, which does not include tpp_warehouse")
    return registry


def _source(args: argparse.Namespace) -> str:
    """What the registry's app was read from, for messages."""
    return str(args.app or args.config)


_LOAD_ERRORS = (OSError, ValueError, LookupError, ImportError)  # a missing file, bad settings, no [app:main]


def _tick(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from .tasks import tick

    try:
        with _registry(args) as registry:
            done = tick(args.at, registry=registry)
    except RedisError as error:
        return _fail(f"cannot reach Redis ({error}); the notifications wait in the outbox for the next tick")
    except _LOAD_ERRORS as error:
        return _fail(f"{_source(args)}: {error}")
    print(
        f"expired {done['expired']} request(s), wrote {done['reminded']} reminder(s), queued {done['pushes']} push(es)"
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .redis_queue import Worker
    from .tasks import configure

    try:
        with _registry(args) as registry:
            if registry["tpp.settings"].redis_url is None:
                return _fail(
                    f"{_source(args)}: tpp.redis_url is not set, so jobs run inside the registry; no worker is needed"
                )
            configure(registry)
            queue = registry["tpp.queue"].queue
            # Its scheduler runs due retries.
            Worker([queue], connection=queue.connection).work(burst=args.burst, with_scheduler=True)
    except _LOAD_ERRORS as error:
        return _fail(f"{_source(args)}: {error}")
    finally:
        configure(None)
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
    vapid = commands.add_parser("vapid", help="manage the Web Push (VAPID) key pair")
    vapid_commands = vapid.add_subparsers(dest="action", required=True, metavar="ACTION")
    vapid_generate = vapid_commands.add_parser("generate", help="write a new key pair; never replaces one")
    vapid_generate.add_argument("--dir", type=Path, default=Path(), help="where to write it (default: here)")
    vapid_generate.set_defaults(run=_vapid_generate)
    tick = commands.add_parser("tick", help="expire overdue requests, write reminders, send waiting notifications")
    _app_arguments(tick)
    tick.add_argument("--at", help="act as of this ISO 8601 time with a timezone (default: now)")
    tick.set_defaults(run=_tick)
    worker = commands.add_parser("worker", help="run TPP's jobs from Redis (needs tpp.redis_url)")
    _app_arguments(worker)
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.set_defaults(run=_worker)
    _plugin_commands(commands)
    return parser


def _plugin_commands(commands: Any) -> None:
    """The commands other packages add (``tpp.commands`` entry points): the devpi plugin's ``serve``.
    One whose extra is not installed still shows, and says what to install."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="tpp.commands"):
        try:
            entry.load()(commands)
        except ImportError as error:
            extras = ",".join(entry.extras) or "all"
            needs = f"needs more of TPP installed: pip install 'tpp[{extras}]'"
            # Takes any arguments: whatever they are, the answer is what to install.
            missing = commands.add_parser(entry.name, help=f"({needs})", add_help=False, prefix_chars="\0")
            missing.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
            missing.set_defaults(run=lambda args, message=f"tpp {entry.name} {needs} ({error})": _fail(message))


def _app_arguments(command: argparse.ArgumentParser) -> None:
    """Where ``tick`` and ``worker`` find the registry's app: an .ini file, or ``--app`` in code."""
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("config", type=Path, nargs="?", help="the registry's .ini file (its [app:main] section)")
    source.add_argument(
        "--app",
        metavar="MODULE:CALLABLE",
        help="instead of an .ini file: a callable that returns the configured app, its configurator or its"
        " registry (for Warehouse: tpp_warehouse.warehouse:configure)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 1 a problem it names, 2 usage)."""
    args = _parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
