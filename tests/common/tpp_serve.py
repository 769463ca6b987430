"""``tpp serve`` as a subprocess, on a free port with devpi's fast argon2 and offline: started, its
banner read, stopped. The tree's tests run the tree's command; the packaging tests run a venv's."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.common.devpi import FAST_ARGON2, wait_until_answering

__all__ = ["start", "stop"]


def start(
    command: Sequence[str | Path],
    serverdir: Path,
    port: int,
    *options: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Run ``command serve`` and return it with what it printed before devpi answered."""
    serve = [*map(str, command), "serve", "--serverdir", str(serverdir), *options, "--port", str(port)]
    process = subprocess.Popen(
        [*serve, "--", *FAST_ARGON2, "--offline-mode"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # the banner ends with the last next step, before devpi's log
        lines.append(line)
        if line.startswith("  6. "):
            break
    try:
        wait_until_answering(f"http://localhost:{port}", process, lambda: "".join(lines))
    except BaseException:
        stop(process)
        raise
    return process, "".join(lines)


def stop(process: subprocess.Popen[str]) -> None:
    """Stop it with SIGTERM, which must end it within 10 s (it is killed then, and the test fails),
    and close the pipe its output went to."""
    assert process.stdout is not None
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise AssertionError("tpp serve did not stop within 10 s of SIGTERM") from None
    finally:
        process.stdout.close()
