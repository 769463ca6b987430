"""devpi's keyfs of a *stopped* server, opened with devpi's own model, in a child process.

For tests that set up what no HTTP request can: approval records of the old format (the owner's
user record, before issue 13), or a look at raw values the API does not show. The child process
keeps devpi's process-wide state (logging, the plugin manager) out of the test process, and serves
every call made within one ``with`` block (starting it, devpi and the plugins load: a second and a half)::

    with StoppedKeyfs(serverdir) as keyfs:
        keyfs.write_old_records("alice", {"rel": {"acme": {"1.0": {"acme-1.0.tar.gz": sha256}}}})
        keyfs.user_record("alice")                      # the raw value of /alice/.config
        keyfs.version_data("alice/rel", "acme", "1.0")  # the raw value of the version's key
        keyfs.store_releases([("alice/rel", "acme", "1.0", [wheel_path])])  # as devpi-import does
        keyfs.delete_file("alice/rel", "acme", "1.0", wheel_path.name)      # as a purge does
"""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["StoppedKeyfs"]

#: Files stored per keyfs transaction by :meth:`StoppedKeyfs.store_releases` (each commit syncs to disk).
_FILES_PER_COMMIT = 500
#: How the child marks its answers among what devpi may print.
_ANSWER = "tpp-keyfs-answer: "


class StoppedKeyfs:
    """The keyfs of the stopped server in ``serverdir``, for the duration of a ``with`` block."""

    def __init__(self, serverdir: Path) -> None:
        self.serverdir = serverdir

    def __enter__(self) -> StoppedKeyfs:
        command = [sys.executable, "-m", "tests.common.devpi_keyfs", str(self.serverdir)]
        self._child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._child.stdin is not None
        assert self._child.stdout is not None
        self._calls, self._answers = self._child.stdin, self._child.stdout
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._calls.close()
        self._child.wait(timeout=60)
        self._answers.close()

    def _call(self, command: str, *args: Any) -> Any:
        self._calls.write(json.dumps([command, args]) + "\n")
        self._calls.flush()
        for line in self._answers:
            if line.startswith(_ANSWER):
                answer = json.loads(line.removeprefix(_ANSWER))
                if "error" in answer:
                    raise RuntimeError(f"keyfs {command} failed:\n{answer['error']}")
                return answer["result"]
        raise RuntimeError(f"the keyfs process ended (exit status {self._child.wait(timeout=60)}) before {command}")

    def write_old_records(self, user: str, records: dict[str, Any]) -> None:
        """Put ``records`` (``{index: {project: {version: {basename: sha256}}}}``) into ``user``'s
        record under ``"tpp"``, where TPP kept them before issue 13."""
        self._call("write_old_records", user, records)

    def user_record(self, user: str) -> dict[str, Any]:
        """The raw user record (passwords and all)."""
        result: dict[str, Any] = self._call("user_record", user)
        return result

    def version_data(self, stage: str, project: str, version: str) -> dict[str, Any]:
        """The raw value of a version's keyfs key."""
        result: dict[str, Any] = self._call("version_data", stage, project, version)
        return result

    def store_releases(self, releases: list[tuple[str, str, str, list[Path]]]) -> None:
        """Store each (stage, project, version, files) release as devpi-import does (the version's
        metadata, then its files, logged as alice's uploads), many per keyfs transaction; devpi's
        notifier runs the upload hooks when the server starts."""
        plain = [(stage, name, version, [str(p) for p in paths]) for stage, name, version, paths in releases]
        self._call("store_releases", plain)

    def delete_file(self, stage: str, project: str, version: str, basename: str) -> None:
        """Delete one release file (its entry and its bytes) in a keyfs transaction of its own, as
        TPP's purge of a rejected file does."""
        self._call("delete_file", stage, project, version, basename)


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


def _open(serverdir: str) -> Any:
    from devpi_server.config import get_pluginmanager, parseoptions
    from devpi_server.main import xom_from_config

    config = parseoptions(get_pluginmanager(), ["devpi-server", "--serverdir", serverdir])
    return xom_from_config(config)  # type: ignore[no-untyped-call]  # devpi-server is partly untyped


def _answer(xom: Any, command: str, args: list[Any]) -> Any:
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


def _serve(serverdir: str) -> None:
    """Answer each call read from stdin (a JSON line) with a marked JSON line, until stdin closes."""
    xom = _open(serverdir)
    for line in sys.stdin:
        command, args = json.loads(line)
        try:
            answer = {"result": _answer(xom, command, args)}
        except Exception:
            answer = {"error": traceback.format_exc()}
        print(_ANSWER + json.dumps(answer), flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1])
