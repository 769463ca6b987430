"""Signing in to TPP's pages with a devpi user name and password.

devpi has no browser sessions, and TPP's pages must never accept devpi's basic auth or
``X-Devpi-Auth`` (invariant I3). So the plugin has its own form: the password is checked by devpi's
user model, and the answer is a signed, HTTP-only session cookie (Pyramid's signed-cookie session,
keyed from devpi's server secret) naming the user. A page reached without it sends the browser here.

The password is also devpi's upload credential, so it only *signs in*: the form then sends the browser
to TPP's confirmation page, where one of the person's devices completes the sign-in (or a person with
no device yet enrols their first). Without that, the session may read but change nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from tpp_warehouse.security import SessionRequired
from tpp_warehouse.views.confirmation import safe_next
from tpp_warehouse.views.errors import tpp_error, wants_json

from .host import SESSION_KEY
from .options import ROUTE_PREFIX

__all__ = ["includeme"]

_TEMPLATE = "tpp_devpi:templates/login.jinja2"
_LIMIT = 200  # longer names or passwords are no devpi user's


def _safe_next(value: object) -> str:
    """Only TPP's own pages (see :func:`tpp_warehouse.views.confirmation.safe_next`), else the requests.

    >>> _safe_next("/+tpp/requests/abc?x=1")
    '/+tpp/requests/abc?x=1'
    >>> [_safe_next(bad) for bad in ("//evil.example/", "/+tpp/x\\r\\nSet-Cookie: a=b", "/+tpp/\\u00e9", None)]
    ['/+tpp/requests', '/+tpp/requests', '/+tpp/requests', '/+tpp/requests']
    """
    return safe_next(value, ROUTE_PREFIX) or f"{ROUTE_PREFIX}/requests"


def _field(request: Any, name: str) -> str:
    """A form or query field as text; a file, or a field sent twice, counts as missing."""
    values = request.params.getall(name)
    return values[0] if len(values) == 1 and isinstance(values[0], str) else ""


def _form(request: Any, status: int = 200, error: str | None = None) -> Any:
    request.response.status_code = status
    values = {
        "next": _safe_next(_field(request, "next")),
        "username": _field(request, "username")[:_LIMIT],
        "error": error,
        "person": request.session.get(SESSION_KEY),
    }
    return render_to_response(_TEMPLATE, values, request=request, response=request.response)


def show(request: Any) -> Any:
    """The sign-in form."""
    return _form(request)


def sign_in(request: Any) -> Any:
    """Check the devpi password; on success start a fresh session (no fixation) naming the user."""
    username, password = _field(request, "username"), _field(request, "password")
    if not username or not password or len(username) > _LIMIT or len(password) > _LIMIT:
        return _form(request, 400, "enter your devpi user name and password")
    user = request.registry["xom"].model.get_user(username)
    if user is None or not user.validate(password):
        return _form(request, 403, "wrong user name or password")
    target = _safe_next(_field(request, "next"))
    request.session.invalidate()
    request.session[SESSION_KEY] = user.name
    request.session.new_csrf_token()
    # The password only signs in; the sign-in is completed with a device (or a first one enrolled).
    return HTTPSeeOther(location=request.route_path("tpp.confirm", _query={"next": target}))


def sign_out(request: Any) -> HTTPSeeOther:
    """End the session."""
    request.session.invalidate()
    return HTTPSeeOther(location=request.route_path("tpp.login"))


def session_required(error: SessionRequired, request: Any) -> Any:
    """A page without a session goes to the sign-in form; a script gets TPP's usual 403."""
    if request.method == "GET" and not wants_json(request):
        return HTTPSeeOther(location=request.route_path("tpp.login") + "?" + urlencode({"next": request.path_qs}))
    return tpp_error(error, request)


def includeme(config: Any) -> None:
    config.add_route("tpp.login", f"{ROUTE_PREFIX}/login")
    config.add_route("tpp.logout", f"{ROUTE_PREFIX}/logout")
    config.add_view(show, route_name="tpp.login", request_method="GET")
    config.add_view(sign_in, route_name="tpp.login", request_method="POST", require_csrf=True)
    config.add_view(sign_out, route_name="tpp.logout", request_method="POST", require_csrf=True)
    config.add_exception_view(session_required, context=SessionRequired)
