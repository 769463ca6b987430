"""What every TPP service is built from: TPP's database session, its settings and the host.

Subclasses are registered with ``config.register_service_factory(Cls.create_service, IFoo)``; the
factory resolves the collaborators once, and the service never touches the request afterwards.
"""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy.orm import Session

from .interfaces import IHost
from .settings import TPPSettings

__all__ = ["Service"]


class Service:
    """Base of the services: keeps the session, settings and host as ``_session``, ``_settings``, ``_host``."""

    def __init__(self, session: Session, settings: TPPSettings, host: IHost) -> None:
        self._session = session
        self._settings = settings
        self._host = host

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: TPP's session, settings and host for this request."""
        return cls(request.tpp_db, request.registry["tpp.settings"], request.find_service(IHost, context=None))
