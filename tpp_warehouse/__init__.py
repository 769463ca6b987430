"""tpp_warehouse: Trustable Package Publication for Pyramid registries.

``config.include("tpp_warehouse")`` after the host has registered its :class:`~.interfaces.IHost`
service and a session factory. Every setting is under ``tpp.`` (see :mod:`.settings`).
"""

from typing import Any

from .approvals import ApprovalService
from .devices import DeviceService
from .interfaces import IApprovalService, IDeviceService, IInvitationService, IPolicyService
from .invitations import InvitationService
from .policies import PolicyService
from .settings import TPPSettings


def includeme(config: Any) -> None:
    config.registry["tpp.settings"] = TPPSettings.from_settings(config.get_settings())
    config.include("pyramid_services")
    config.include("pyramid_jinja2")
    config.include("pyramid_tm")
    config.include(".db")
    config.include(".routes")
    config.include(".security")
    config.register_service_factory(DeviceService.create_service, IDeviceService)
    config.register_service_factory(PolicyService.create_service, IPolicyService)
    config.register_service_factory(InvitationService.create_service, IInvitationService)
    config.register_service_factory(ApprovalService.create_service, IApprovalService)
    config.scan(".views")
