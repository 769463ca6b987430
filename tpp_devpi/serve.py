"""``tpp serve``: the main job, a gated registry on this machine with embedded defaults.

The first run prepares a server directory (``./tpp-registry``): devpi's data with a fresh root
password (printed once), a server secret, a VAPID key pair for Web Push, and TPP's SQLite tables.
Every run then becomes devpi-server with the plugin, on ``localhost``, after printing the addresses
and the next steps. Arguments after ``--`` go to devpi-server as they are.

``--try-out`` is for walking the next steps in one sitting: new devices may approve at once (no
cooldown), and the banner says so. A real registry keeps the cooldown (24 hours unless
``-- --tpp-device-cooldown`` says otherwise), which gives a person time to notice a device they did
not add.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from tpp_warehouse.migrate import upgrade
from tpp_warehouse.vapid import PRIVATE_KEY_NAME, generate

__all__ = ["executable", "serve"]

_SECRET = "tpp-secret"
_VAPID_SUBJECT = "mailto:root@localhost"


def executable(name: str) -> str:
    """The console script (devpi-server, devpi-init) installed beside this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: pip install 'tpp[devpi]'")
    return found


def _prepare(serverdir: Path) -> str:
    """Create devpi's data, the secret, the VAPID keys and TPP's tables; returns root's password."""
    password = secrets.token_urlsafe(12)
    subprocess.run(
        # "=" form: a password may start with "-", which would otherwise read as an option.
        [executable("devpi-init"), "--serverdir", str(serverdir), f"--root-passwd={password}"],
        check=True,
        capture_output=True,
    )
    secret = serverdir / _SECRET
    secret.touch(mode=0o600)  # private before it holds anything
    secret.write_text(secrets.token_urlsafe(32))
    generate(serverdir)  # Web Push's key pair, kept across restarts
    upgrade(f"sqlite:///{serverdir / 'tpp.sqlite'}")
    return password


def _next_steps(url: str, password: str | None, try_out: bool) -> str:
    first = (
        f"  root's password (shown this once): {password}\n\n"
        if password
        else "  root's password was shown on the first run.\n\n"
    )
    cooldown = (
        "  TRYING OUT: new devices may approve at once (no cooldown). Never run a real registry like this.\n\n"
        if try_out
        else "  A new device may approve 24 hours after it is added (the cooldown): to walk the steps below\n"
        "  in one sitting, run tpp serve --try-out; a real registry sets -- --tpp-device-cooldown DURATION.\n\n"
    )
    return (
        f"TPP registry at {url} (devpi-server with the tpp plugin)\n"
        f"  approval pages: {url}/+tpp/requests   (sign in with a devpi user name and password)\n"
        f"{first}{cooldown}"
        "Next steps (the clients they use: pip install devpi-client twine):\n"
        f"  1. a user:        devpi use {url} && devpi login root && devpi user -c alice email=alice@example.org\n"
        "  2. a tpp index:   devpi login alice && devpi index -c rel type=tpp volatile=False\n"
        f"  3. a device:      open {url}/+tpp/devices, sign in as alice, register a passkey or security key\n"
        f"  4. upload:        twine upload --repository-url {url}/alice/rel/ -u alice dist/*   (stays hidden;\n"
        "                     the project gets its default policy, alice, and its request opens)\n"
        f"  5. approve at {url}/+tpp/requests, then: pip install --index-url {url}/alice/rel/+simple/ <project>\n"
        f"  6. more approvers: invite them at {url}/+tpp/policies/project/<project>, then propose the new policy\n"
    )


def serve(serverdir: Path, port: int, devpi_args: list[str], *, try_out: bool = False) -> int:
    """Prepare ``serverdir`` on the first run, then replace this process with devpi-server
    (with no device cooldown if ``try_out``)."""
    password = None
    if not (serverdir / ".nodeinfo").exists():
        if serverdir.exists() and any(serverdir.iterdir()):
            print(f"tpp: error: {serverdir} is not empty and holds no devpi server", file=sys.stderr)
            return 1
        serverdir.mkdir(parents=True, exist_ok=True)
        password = _prepare(serverdir)
    url = f"http://localhost:{port}"
    command = [
        executable("devpi-server"),
        "--serverdir",
        str(serverdir),
        "--host",
        "localhost",
        "--port",
        str(port),
        "--secretfile",
        str(serverdir / _SECRET),
        "--tpp-vapid-private-key",
        str(serverdir / PRIVATE_KEY_NAME),
        "--tpp-vapid-subject",
        _VAPID_SUBJECT,
        *(["--tpp-device-cooldown=0s"] if try_out else []),
        *devpi_args,
    ]
    print(_next_steps(url, password, try_out), flush=True)
    os.execv(command[0], command)
    return 0  # not reached: exec replaced the process
