"""A tiny PEP 503 package index on loopback, for devpi mirror indexes to mirror in tests.

It plays a public index (PyPI) where anybody may upload any name::

    with SimpleIndex() as public:
        public.add(wheel(tmp_path, "acme", "9.0"))        # a dependency-confusion upload
        server.api("PUT", "/alice/pypi", {"type": "mirror", "mirror_url": public.url}, ...)
"""

from __future__ import annotations

import hashlib
import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from tpp_devpi.gate import normalize_name

__all__ = ["SimpleIndex"]


class SimpleIndex:
    """``/simple/`` and ``/simple/<name>/`` pages and the files they link to, served in a thread."""

    def __init__(self) -> None:
        self.files: dict[str, list[Path]] = {}
        index = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index.answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows the server's output only on failure anyway."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/simple/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SimpleIndex:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, path: Path, project: str | None = None) -> Path:
        """Publish ``path`` under ``project`` (by default the wheel's name)."""
        name = normalize_name(project or path.name.split("-")[0])
        self.files.setdefault(name, []).append(path)
        return path

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = [part for part in handler.path.split("?")[0].split("/") if part]
        body, kind = None, "text/html"
        if parts == ["simple"]:
            body = "".join(f'<a href="/simple/{name}/">{name}</a>\n' for name in sorted(self.files))
        elif len(parts) == 2 and parts[0] == "simple" and normalize_name(parts[1]) in self.files:
            body = "".join(
                f'<a href="/files/{html.escape(path.name)}#sha256={hashlib.sha256(path.read_bytes()).hexdigest()}">'
                f"{html.escape(path.name)}</a>\n"
                for path in self.files[normalize_name(parts[1])]
            )
        elif len(parts) == 2 and parts[0] == "files":
            found = [path for paths in self.files.values() for path in paths if path.name == parts[1]]
            if found:
                data, kind = found[0].read_bytes(), "application/octet-stream"
                return self._send(handler, 200, data, kind)
        if body is None:
            return self._send(handler, 404, b"not found", "text/plain")
        return self._send(handler, 200, f"<html><body>\n{body}</body></html>\n".encode(), kind)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, data: bytes, kind: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
