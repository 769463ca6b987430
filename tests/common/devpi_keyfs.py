"""devpi's keyfs of a *stopped* server, opened with devpi's own model, in a child process.

For tests that set up what no HTTP request can: approval records of the old format (the owner's
user record, before issue 13), or a look at raw values the API does not show. The child process
keeps devpi's process-wide state (logging, the plugin manager) out of the test process::

    write_old_records(serverdir, "alice", {"rel": {"acme": {"1.0": {"acme-1.0.tar.gz": sha256}}}})
    user_record(serverdir, "alice")                      # the raw value of /alice/.config
    version_data(serverdir, "alice/rel", "acme", "1.0")  # the raw value of the version's key
    store_releases(serverdir, [("alice/rel", "acme", "1.0", [wheel_path])])  # as devpi-import does
    delete_file(serverdir, "alice/rel", "acme", "1.0", wheel_path.name)      # as a purge does
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["delete_file", "store_releases", "user_record", "version_data", "write_old_records"]

#: Files stored per keyfs transaction by :func:`store_releases` (each commit syncs to disk).
_FILES_PER_COMMIT = 500


def _run(serverdir: Path, command: str, *args: Any) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "tests.common.devpi_keyfs", str(serverdir), command],
        input=json.dumps(args),
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
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


def store_releases(serverdir: Path, releases: list[tuple[str, str, str, list[Path]]]) -> None:
    """Store each (stage, project, version, files) release as devpi-import does (the version's
    metadata, then its files, logged as alice's uploads), many per keyfs transaction; devpi's
    notifier runs the upload hooks when the server starts."""
    _run(
        serverdir,
        "store_releases",
        [(stage, name, version, [str(p) for p in paths]) for stage, name, version, paths in releases],
    )


def delete_file(serverdir: Path, stage: str, project: str, version: str, basename: str) -> None:
    """Delete one release file (its entry and its bytes) in a keyfs transaction of its own, as TPP's
    purge of a rejected file does."""
    _run(serverdir, "delete_file", stage, project, version, basename)


def _store(xom: Any, releases: list[list[Any]]) -> None:
    chunks: list[list[list[Any]]] = [[]]
    for release in releases:
        if sum(len(paths) for *_, paths in chunks[-1]) >= _FILES_PER_COMMIT:
            chunks.append([])
        chunks[-1].append(release)
    for chunk in chunks:
        with xom.keyfs.write_transaction():
            for stage_name, name, version, paths in chunk:
                stage = xom.model.getstage(stage_name)
                stage.set_versiondata({"name": name, "version": version})
                for path in map(Path, paths):
                    link = stage.store_releasefile(name, version, path.name, path.read_bytes())
                    link.add_log("upload", stage.username, dst=stage.name)


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
    xom = xom_from_config(config)  # type: ignore[no-untyped-call]  # devpi-server is partly untyped
    keyfs = xom.keyfs
    if command == "write_old_records":
        user, records = args
        with keyfs.write_transaction(), keyfs.USER(user=user).update() as record:
            record["tpp"] = records
        return None
    if command == "store_releases":
        _store(xom, args[0])
        return None
    if command == "delete_file":
        stage_name, project, version, basename = args
        with keyfs.write_transaction():
            stage = xom.model.getstage(stage_name)
            (link,) = stage.get_linkstore_perstage(project, version).get_links(basename=basename)
            stage.del_entry(link.entry)
        return None
    with keyfs.read_transaction():
        if command == "user_record":
            return _plain(keyfs.USER(user=args[0]).get())
        stage = xom.model.getstage(args[0])
        return _plain(stage.get_versiondata_perstage(args[1], args[2]))


if __name__ == "__main__":
    print(json.dumps(_main(sys.argv[1], sys.argv[2], json.loads(sys.stdin.read()))))
