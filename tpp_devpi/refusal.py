"""How the plugin's tweens say no to a devpi request, the way devpi itself does.

devpi answers its API clients (``Accept: application/json``) with ``{"message": …}``, and uploaders
(twine, which shows the status line) with the message as the reason phrase. A reason phrase must be
Latin-1, and names and versions are not, so it is escaped there; the body keeps the message as is::

    >>> refusal_reason("acme 1.0 is approved on alice/rel")
    'acme 1.0 is approved on alice/rel'
    >>> refusal_reason("caf\\u00e9 \\U0001f600 1.0\\r\\n")
    'caf\\\\xe9 \\\\U0001f600 1.0\\\\r\\\\n'
"""

from __future__ import annotations

import json
from typing import Any

from pyramid.response import Response

__all__ = ["refusal", "refusal_reason"]


def refusal_reason(message: str) -> str:
    """``message`` as a reason phrase: printable ASCII, anything else escaped."""
    escaped = message.encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in escaped)


def refusal(request: Any, status: int, message: str) -> Response:
    """A ``status`` answer saying ``message``; JSON if the client prefers it, as devpi's ``apireturn``."""
    if "application/json" in request.headers.get("Accept", ""):
        body = json.dumps({"message": message}, indent=2) + "\n"
        return Response(status=status, body=body.encode(), content_type="application/json", charset=None)
    return Response(status=f"{status} {refusal_reason(message)}", text=message + "\n", content_type="text/plain")
