"""The host's XML-RPC ``changelog_since_serial`` (``warehouse/legacy/api/xmlrpc/views.py``): the
journal after a serial, which mirrors read to learn what changed."""

from __future__ import annotations

import xmlrpc.client
from typing import Any
from xml.parsers.expat import ExpatError

from pyramid.response import Response
from sqlalchemy import select

from .models import JournalEntry


def changelog_since_serial(request: Any, serial: int) -> list[tuple[str, str | None, int, str, int]]:
    entries = request.db.scalars(select(JournalEntry).where(JournalEntry.id > serial).order_by(JournalEntry.id))
    return [(e.name, e.version, int(e.submitted_date.timestamp()), e.action, e.id) for e in entries]


_METHODS: dict[str, Any] = {"changelog_since_serial": changelog_since_serial}


def xmlrpc_view(request: Any) -> Response:
    """``POST /pypi`` with an XML-RPC call."""
    try:
        params, method = xmlrpc.client.loads(request.body)
        result: Any = (_METHODS[str(method)](request, *params),)
    except (ExpatError, KeyError, TypeError, ValueError, xmlrpc.client.ResponseError) as error:
        result = xmlrpc.client.Fault(1, f"bad call: {error}")
    return Response(xmlrpc.client.dumps(result, methodresponse=True, allow_none=True), content_type="text/xml")
