"""The host's view derivers, as Warehouse's: ``require_method_view`` (``warehouse/csrf.py``) and
``session_view`` (``warehouse/sessions.py``). A view gets GET, HEAD and OPTIONS only unless it says
``require_methods=[...]``, and ``request.session`` raises unless it says ``uses_session=True``."""

from __future__ import annotations

import functools
from typing import Any

from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.viewderivers import INGRESS

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def require_method_view(view: Any, info: Any) -> Any:
    require_methods = info.options.get("require_methods", SAFE_METHODS)
    explicit = bool(info.options.get("require_methods"))
    if not require_methods:
        return view

    def wrapped(context: Any, request: Any) -> Any:
        # Exception views are let through, unless they named their methods themselves.
        if request.method not in require_methods and (getattr(request, "exception", None) is None or explicit):
            raise HTTPMethodNotAllowed(headers={"Allow": ", ".join(sorted(require_methods))})
        return view(context, request)

    return wrapped


require_method_view.options = {"require_methods"}  # type: ignore[attr-defined]


class InvalidSession(dict[str, Any]):
    """What ``request.session`` is in a view that did not declare ``uses_session``."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Cannot use request.session in a view without uses_session=True.")

    __getitem__ = __setitem__ = __contains__ = get = pop = flash = pop_flash = get_csrf_token = _fail
    new_csrf_token = invalidate = _fail


def session_view(view: Any, info: Any) -> Any:
    if info.options.get("uses_session") or info.exception_only:
        return view

    @functools.wraps(view)
    def wrapped(context: Any, request: Any) -> Any:
        nothing = object()
        original = request.__dict__.get("session", nothing)
        request.__dict__["session"] = InvalidSession()
        try:
            return view(context, request)
        finally:
            if original is nothing:
                del request.__dict__["session"]
            else:
                request.__dict__["session"] = original

    return wrapped


session_view.options = {"uses_session"}  # type: ignore[attr-defined]


def includeme(config: Any) -> None:
    config.set_default_csrf_options(require_csrf=True)
    config.add_view_deriver(require_method_view, under=INGRESS, over="csrf_view")
    config.add_view_deriver(session_view, over="csrf_view", under=INGRESS)
