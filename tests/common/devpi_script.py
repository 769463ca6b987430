"""Run one of devpi-server's console scripts (``devpi-server``, ``devpi-init``) as installed, with
password hashes at the cost devpi's own tests give its secret's derivation.

devpi hashes passwords with passlib's argon2 defaults (64 MiB, about 0.1 s a check), whatever
``--argon2-*`` says (those tune only the secret), and checks one for every basic-auth request and
every twine upload: a fifth of the test servers' time went there. The scheme, the checks and every
code path stay devpi's; only the cost parameters are lower, and every hash the tests' servers hold is
made at that cost, so passlib never asks to rehash one. ``tpp serve``'s tests start the real
console script with the real cost::

    python -m tests.common.devpi_script devpi-server --serverdir ... --port ...
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

from devpi_server import auth

#: The tree, where ``python -m`` finds this module: the commands run there.
ROOT = Path(__file__).resolve().parents[2]
#: argon2's smallest costs (KiB, passes, lanes), as devpi's ``lower_argon2_parameters`` fixture.
CHEAP = {"argon2__memory_cost": 8, "argon2__time_cost": 1, "argon2__parallelism": 1}


def command(script: str, *arguments: str) -> list[str]:
    """The command line that runs ``script`` (a devpi-server console script) with cheap hashes, in :data:`ROOT`."""
    return [sys.executable, "-m", __name__, script, *arguments]


if __name__ == "__main__":
    auth.pwd_context.update(**CHEAP)
    (entry_point,) = entry_points(group="console_scripts", name=sys.argv[1])
    sys.argv[0:2] = [entry_point.name]
    sys.exit(entry_point.load()())
