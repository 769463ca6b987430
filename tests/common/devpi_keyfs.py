"""devpi's keyfs of a *stopped* server, opened with devpi's own model, in a child process.

For tests that set up what no HTTP request can: approval records of the old format (the owner's
user record, before issue 13), or a look at raw values the API does not show. The child process
keeps devpi's process-wide state (logging, the plugin manager) out of the test process::

    write_old_records(serverdir, "alice", {"rel": {"acme": {"1.0": {"acme-1.0.tar.gz": sha256}}}})
    user_record(serverdir, "alice")                      # the raw value of /alice/.config
    version_data(serverdir, "alice/rel", "acme", "1.0")  # the raw value of the version's key
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["user_record", "version_data", "write_old_records"]


def _run(serverdir: Path, command: str, *args: Any) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "tests.common.devpi_keyfs", str(serverdir), command, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode:
        raise RuntimeError(f"keyfs {command} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def write_old_records(serverdir: Path, user: str, records: dict[str, Any]) -> None:
    """Put ``records`` (``{index: {project: {version: {basename: sha256}}}}``) into ``user``'s record
    under ``"tpp"``, where TPP kept them before issue 13."""
    _run(serverdir, "write_old_records", user, records)


def user_record(serverdir: Path, user: str) -> dict[str, Any]:
    """The raw user record (passwords and all)."""
    result: dict[str, Any] = _run(serverdir, "user_record", user)
    return result


def version_data(serverdir: Path, stage: str, project: str, version: str) -> dict[str, Any]:
    """The raw value of a version's keyfs key."""
    result: dict[str, Any] = _run(serverdir, "version_data", stage, project, version)
    return result


def _plain(value: Any) -> Any:
    """A keyfs value (devpi's read-only views) as JSON-able data."""
    data = getattr(value, "_data", value)
    if isinstance(data, dict):
        return {key: _plain(item) for key, item in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return [_plain(item) for item in data]
    return data


def _main(serverdir: str, command: str, args: list[Any]) -> Any:
    from devpi_server.config import get_pluginmanager, parseoptions
    from devpi_server.main import xom_from_config

    config = parseoptions(get_pluginmanager(), ["devpi-server", "--serverdir", serverdir])
    xom = xom_from_config(config)
    keyfs = xom.keyfs
    if command == "write_old_records":
        user, records = args
        with keyfs.write_transaction(), keyfs.USER(user=user).update() as record:
            record["tpp"] = records
        return None
    with keyfs.read_transaction():
        if command == "user_record":
            return _plain(keyfs.USER(user=args[0]).get())
        stage = xom.model.getstage(args[0])
        return _plain(stage.get_versiondata_perstage(args[1], args[2]))


if __name__ == "__main__":
    print(json.dumps(_main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))
