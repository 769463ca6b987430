"""Close the temporary file WebOb spools a request body over 10 KB into, when the request ends.

WebOb copies such a body (a JSON post, a large form) into ``tempfile.TemporaryFile()`` and leaves
closing it to the garbage collector; Pyramid's request sits in reference cycles, so the file stays
open until a collection that may come during another test, whose run then fails on the
``ResourceWarning``. The test hosts include this, as they own the request's lifetime::

    config.include("tests.common.bodies")
"""

from __future__ import annotations

from typing import Any

from pyramid.events import NewRequest

__all__ = ["includeme"]


def _close_spooled_body(event: Any) -> None:
    request = event.request
    received = request.environ.get("wsgi.input")

    def close(request: Any) -> None:
        spooled = request.environ.get("wsgi.input")
        if spooled is not received and spooled is not None:
            spooled.close()

    request.add_finished_callback(close)


def includeme(config: Any) -> None:
    config.add_subscriber(_close_spooled_body, NewRequest)
