"""The host's security policies, resolved the way Warehouse's are (``warehouse/accounts/security_policy.py``,
``warehouse/macaroons/security_policy.py``, ``warehouse/utils/security_policy.py``): the session, then
API tokens; each policy sets ``request.authentication_method`` when it is asked, so the attribute
exists only once ``request.identity`` (and ``request.user``) has been resolved."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pyramid.security import Allowed, Denied
from sqlalchemy import select

from .models import User

#: Routes that take no session (Warehouse: the api.* routes, and the upload's ``auth_methods``).
_NO_SESSION = ("api.", "forklift.", "xmlrpc.")


@dataclass(frozen=True)
class UserContext:
    """Warehouse's ``warehouse.accounts.utils.UserContext``: a user, and the token if one was used."""

    user: User
    macaroon: str | None


def _user(request: Any, username: str | None) -> User | None:
    if username is None:
        return None
    found: User | None = request.db.scalars(select(User).where(User.username == username)).first()
    return found


class _SessionPolicy:
    def identity(self, request: Any) -> UserContext | None:
        request.authentication_method = "session"
        route = request.matched_route
        if route is None or route.name.startswith(_NO_SESSION):
            return None
        user = _user(request, request.session.get("auth.userid"))
        return None if user is None else UserContext(user, None)


class _TokenPolicy:
    def identity(self, request: Any) -> UserContext | None:
        request.authentication_method = "macaroon"
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            login, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = _user(request, request.registry["host.tokens"].get(secret)) if login == "__token__" else None
        return None if user is None else UserContext(user, secret)


class MultiSecurityPolicy:
    """The first policy that returns an identity wins; cached for the request."""

    def __init__(self) -> None:
        self._policies = (_SessionPolicy(), _TokenPolicy())

    def identity(self, request: Any) -> UserContext | None:
        if "host.identity" not in request.environ:
            request.environ["host.identity"] = next(
                (found for policy in self._policies if (found := policy.identity(request)) is not None), None
            )
        identity: UserContext | None = request.environ["host.identity"]
        return identity

    def authenticated_userid(self, request: Any) -> str | None:
        identity = self.identity(request)
        return None if identity is None else str(identity.user.id)

    def permits(self, request: Any, context: Any, permission: str) -> Any:
        return Allowed("signed in") if self.identity(request) else Denied("unknown identity")

    def remember(self, request: Any, userid: str, **kw: Any) -> list[tuple[str, str]]:
        request.session["auth.userid"] = userid
        return []

    def forget(self, request: Any, **kw: Any) -> list[tuple[str, str]]:
        request.session.pop("auth.userid", None)
        return []


def user(request: Any) -> User | None:
    """``request.user``, as ``warehouse/accounts/__init__.py::_user``."""
    identity = request.identity
    return identity.user if isinstance(identity, UserContext) else None
