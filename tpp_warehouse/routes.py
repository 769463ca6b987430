"""Every route of TPP's pages, under ``tpp.route_prefix`` (default ``/tpp``)."""

from __future__ import annotations

from typing import Any

__all__ = ["ROUTES", "includeme"]

#: route name -> path below the prefix
ROUTES = {
    "tpp.home": "/",
    "tpp.confirm": "/confirm",
    "tpp.confirm.begin": "/confirm/begin",
    "tpp.confirm.finish": "/confirm/finish",
    "tpp.recover": "/recoveries",
    "tpp.devices": "/devices",
    "tpp.devices.begin": "/devices/begin",
    "tpp.devices.finish": "/devices/finish",
    "tpp.devices.rename": "/devices/{device_id}/rename",
    "tpp.devices.remove": "/devices/{device_id}/remove",
    "tpp.devices.push": "/devices/{device_id}/push",
    # At the prefix, so the service worker's scope (its directory) covers every TPP page.
    "tpp.service_worker": "/sw.js",
    "tpp.requests": "/requests",
    "tpp.request": "/requests/{request_id}",
    "tpp.request.begin": "/requests/{request_id}/begin",
    "tpp.request.decide": "/requests/{request_id}/decide",
    "tpp.request.cancel": "/requests/{request_id}/cancel",
    "tpp.request.status": "/requests/{request_id}/status.json",
    "tpp.release.status": "/releases/{project}/{version}/status.json",
    "tpp.policy": "/policies/{kind}/{value}",
    "tpp.policy.check": "/policies/{kind}/{value}/check",
    "tpp.invite": "/policies/{kind}/{value}/invitations",
    "tpp.invitation.accept": "/invitations/{invitation_id}/accept",
    "tpp.invitation.decline": "/invitations/{invitation_id}/decline",
    "tpp.history": "/projects/{project}",
    "tpp.audit": "/audit",
}


def includeme(config: Any) -> None:
    prefix = config.registry["tpp.settings"].route_prefix
    for name, path in ROUTES.items():
        config.add_route(name, prefix + path)
    config.add_static_view(f"{prefix}/static", "tpp_warehouse:static", cache_max_age=3600)
