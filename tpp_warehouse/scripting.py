"""Running TPP's services outside a web request: in jobs, ``tpp tick`` and dispatching.

A request made by :func:`pyramid.scripting.prepare` finds the same services, settings, host and
database session (``request.tpp_db``) as a web request, so a job needs nothing but the registry and
plain ids. Its transaction is begun here; the caller commits it (``request.tm.commit()``), and
anything not committed is rolled back on the way out.

Usage::

    with scripted(registry) as request:
        request.find_service(IApprovalService, context=None).expire_overdue(now)
        request.tm.commit()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from pyramid.scripting import prepare
from transaction.interfaces import NoTransaction

__all__ = ["scripted"]


@contextmanager
def scripted(registry: Any) -> Iterator[Any]:
    """A request on ``registry`` with its transaction begun; rolled back unless the caller committed."""
    env = prepare(registry=registry)
    request = env["request"]
    try:
        request.tm.begin()
        try:
            yield request
        finally:
            with suppress(NoTransaction):  # committed by the caller: nothing to roll back
                request.tm.abort()
    finally:
        env["closer"]()


def __dir__() -> list[str]:
    return __all__
