"""What TPP's views declare to a Warehouse-shaped host's view derivers.

Warehouse wraps every view in ``require_method_view`` (``warehouse/csrf.py``: only GET, HEAD and
OPTIONS unless the view says ``require_methods=[...]``) and ``session_view``
(``warehouse/sessions.py``: ``request.session`` raises unless the view says ``uses_session=True``).
Plain Pyramid refuses both options as unknown, so TPP's views cannot name them in ``@view_config``.

:func:`host_view_options` is a view deriver of TPP's own, placed inside the host's (Pyramid's default
place, between ``decorated_view`` and ``rendered_view``). Derivers are applied from the innermost
out over one shared ``info.options``, so it sets the options for TPP's routes before the host's
derivers read them: each view's ``request_method`` becomes its ``require_methods``, and every TPP
page uses the session. Where the host has no such derivers, nobody reads them.

Usage::

    config.add_view_deriver(host_view_options)       # from tpp_warehouse.warehouse
"""

from __future__ import annotations

from typing import Any

from pyramid.predicates import RequestMethodPredicate

__all__ = ["host_view_options"]

#: TPP's route names start with this (see :mod:`.routes`).
_PREFIX = "tpp."


def host_view_options(view: Any, info: Any) -> Any:
    """Declare ``require_methods`` and ``uses_session`` for the views of TPP's routes; returns the
    view unchanged."""
    route = info.options.get("route_name")
    if info.exception_only or not isinstance(route, str) or not route.startswith(_PREFIX):
        return view
    methods = [m for p in info.predicates if isinstance(p, RequestMethodPredicate) for m in p.val]
    if methods:
        info.options.setdefault("require_methods", sorted(set(methods)))
    info.options.setdefault("uses_session", True)
    return view


def __dir__() -> list[str]:
    return __all__
