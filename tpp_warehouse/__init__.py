"""tpp_warehouse: Trustable Package Publication for Pyramid registries.

``config.include("tpp_warehouse")`` after the host has registered its :class:`~.interfaces.IHost`
service and a session factory. Every setting is under ``tpp.`` (see :mod:`.settings`).

Each service is registered against its interface and built by its ``create_service`` factory from
collaborators it finds by interface in turn (see :mod:`.interfaces`); a host or a test replaces one
by registering its own for the same interface, e.g. a fixed :class:`~tpp_core.IClock`.
"""

from typing import Any

from pyramid.interfaces import IRendererFactory, IRequestExtensions
from pyramid_services import IServiceRegistry

from tpp_core import IAuditLog, IClock, INotifier, IPolicyStore, IRequestStore

from .approvals import ApprovalService
from .audit import DatabaseAuditLog
from .challenges import ChallengeStore
from .clock import SystemClock
from .db import on_session
from .devices import DeviceService
from .effects import Effects
from .interfaces import (
    IApprovalService,
    IChallengeStore,
    IDeviceService,
    IEffects,
    IInvitationService,
    IPolicyService,
)
from .invitations import InvitationService
from .notifications import Outbox
from .policies import PolicyService, PolicyStore
from .request_store import RequestStore
from .settings import TPPSettings


def _include_libraries(config: Any) -> None:
    """pyramid_services, pyramid_jinja2 and pyramid_tm, unless the host's committed configuration has
    them already (Warehouse includes TPP after ``configure()`` committed): their includes would run
    again, replacing the host's service registry and adding a second transaction tween."""
    registry = config.registry
    extensions = registry.queryUtility(IRequestExtensions)
    present = {
        "pyramid_services": registry.queryUtility(IServiceRegistry) is not None,
        "pyramid_jinja2": registry.queryUtility(IRendererFactory, name=".jinja2") is not None,
        "pyramid_tm": extensions is not None and "tm" in extensions.descriptors,
    }
    for library, committed in present.items():
        if not committed:
            config.include(library)


def includeme(config: Any) -> None:
    config.registry["tpp.settings"] = TPPSettings.from_settings(config.get_settings())
    _include_libraries(config)
    config.include(".db")
    config.include(".routes")
    config.include(".security")
    config.include(".views.display")
    config.include(".views.policy_diff")
    config.include(".job_queue")
    config.include(".delivery")
    config.register_service(SystemClock(), IClock)
    # What the services are built from: stores on TPP's session, and the effects of requests.
    config.register_service_factory(on_session(RequestStore), IRequestStore)
    config.register_service_factory(on_session(PolicyStore), IPolicyStore)
    config.register_service_factory(on_session(DatabaseAuditLog), IAuditLog)
    config.register_service_factory(on_session(Outbox), INotifier)
    config.register_service_factory(ChallengeStore.create_service, IChallengeStore)
    config.register_service_factory(Effects.create_service, IEffects)
    # The services views look up.
    config.register_service_factory(DeviceService.create_service, IDeviceService)
    config.register_service_factory(PolicyService.create_service, IPolicyService)
    config.register_service_factory(InvitationService.create_service, IInvitationService)
    config.register_service_factory(ApprovalService.create_service, IApprovalService)
    config.scan(".views")
