"""``tpp serve``, the command the devpi plugin adds to the ``tpp`` command line.

The ``tpp`` command (:mod:`tpp_warehouse.cli`) knows no host; it loads the ``tpp.commands`` entry
points, and this one adds ``serve`` (:mod:`.serve`), with the plugin's devpi-server options in its
``--help``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from .options import option_help
from .serve import serve

__all__ = ["add_command"]


def add_command(commands: Any) -> None:
    """Add ``serve`` to the ``tpp`` command's subcommands (an argparse subparsers action)."""
    command = commands.add_parser(
        "serve",
        help="run a gated registry here: devpi-server with the tpp plugin (prepared on the first run)",
        epilog=option_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("--serverdir", type=Path, default=Path("tpp-registry"), help="default: ./tpp-registry")
    command.add_argument("--port", type=int, default=3141, help="the port on localhost (default: 3141)")
    command.add_argument(
        "--try-out",
        action="store_true",
        help="for trying the walkthrough in one sitting: new devices may approve at once (no 24h cooldown);"
        " never for a real registry",
    )
    command.add_argument("devpi_args", nargs=argparse.REMAINDER, help="after --: more devpi-server options")
    command.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    extra = args.devpi_args[1:] if args.devpi_args[:1] == ["--"] else args.devpi_args
    try:
        return serve(args.serverdir, args.port, extra, try_out=args.try_out)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"tpp: error: cannot start the registry: {error}", file=sys.stderr)
        return 1
