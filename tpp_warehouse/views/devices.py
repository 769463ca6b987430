"""The devices page: the signed-in person's devices, enrolling this one, renaming and removing (I6).

Enrolling is two JSON calls from ``static/devices.js``::

    POST /tpp/devices/begin   {}  -> {"registration": {"id", "options"}, "vouch": {"id", "options"} | null}
    ...                       navigator.credentials.get(vouch.options), if any, then .create(registration.options)
    POST /tpp/devices/finish  {"name", "registration": {"id", "credential"}, "vouch": {"id", "credential"} | null}
                              -> {"device": {"id", "name"}}

Notifications: the page registers the service worker (``/tpp/sw.js``), subscribes with the
registry's VAPID key and stores the subscription on the device the person picks::

    POST /tpp/devices/<id>/push {"subscription": PushSubscription.toJSON() | null} -> {"device": {…}}

Renaming and removing are plain forms that redirect back to the page. Every view needs a browser
session (invariant I3) and every POST a CSRF token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import Enrolment, InvalidInput, may_approve
from tpp_warehouse.devices import as_core_device
from tpp_warehouse.forms import ceremony_answer, json_object, record_id, required_text
from tpp_warehouse.interfaces import IDeviceService
from tpp_warehouse.security import session_person
from tpp_warehouse.vapid import application_server_key
from tpp_warehouse.views.display import when

__all__ = ["DeviceViews"]

#: How each way of admitting a device reads on the page.
ADMITTED = {
    Enrolment.BOOTSTRAP.value: "first device (your co-owners were told)",
    Enrolment.VOUCHED.value: "confirmed with another of your devices",
}


@view_defaults(require_csrf=True)
class DeviceViews:
    """The devices page and its endpoints; each needs a browser session."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.person = session_person(request)
        self.devices = request.find_service(IDeviceService, context=None)

    @view_config(route_name="tpp.devices", request_method="GET", renderer="tpp_warehouse:templates/tpp/devices.jinja2")
    def page(self) -> dict[str, Any]:
        """The person's devices, oldest first, with when each may approve."""
        now = datetime.now(UTC)
        settings = self.request.registry["tpp.settings"]
        cooldown = settings.device_cooldown
        return {
            "messages": self.request.session.pop_flash(),
            "vapid_key": application_server_key(settings),
            # The service worker is served at the prefix, so it may control every page below it.
            "worker_scope": settings.route_prefix + "/",
            "devices": [
                {
                    "id": d.id,
                    "name": d.name,
                    "enrolled": when(d.enrolled_at),
                    "may_approve": may_approve(as_core_device(d), at=now, cooldown=cooldown),
                    "ready": when(d.enrolled_at + cooldown),
                    "admitted": ADMITTED.get(d.enrolment, d.enrolment),
                    "notifications": d.push_subscription is not None,
                }
                for d in self.devices.devices(self.person)
            ],
        }

    @view_config(route_name="tpp.devices.begin", request_method="POST", renderer="json")
    def begin(self) -> dict[str, Any]:
        """Start enrolling this device; a second device must be vouched for by one already enrolled."""
        registration, vouch = self.devices.begin_enrolment(self.person, datetime.now(UTC))
        return {
            "registration": {"id": registration.id, "options": registration.options},
            "vouch": None if vouch is None else {"id": vouch.id, "options": vouch.options},
        }

    @view_config(route_name="tpp.devices.finish", request_method="POST", renderer="json")
    def finish(self) -> dict[str, Any]:
        """Verify the new device's registration (and the voucher's assertion) and store it."""
        body = json_object(self.request)
        name = required_text(body, "name")
        registration = ceremony_answer(body, "registration")
        vouch = None if body.get("vouch") is None else ceremony_answer(body, "vouch")
        record = self.devices.finish_enrolment(self.person, name, registration, vouch, datetime.now(UTC))
        return {"device": {"id": record.id, "name": record.name}}

    @view_config(route_name="tpp.devices.rename", request_method="POST")
    def rename(self) -> HTTPSeeOther:
        """Rename one of the person's devices from the page's form."""
        record = self.devices.rename(self.person, self._device_id(), self.request.POST.get("name"), datetime.now(UTC))
        self.request.session.flash(f"Renamed to “{record.name}”.")
        return HTTPSeeOther(location=self.request.route_path("tpp.devices"))

    @view_config(route_name="tpp.devices.remove", request_method="POST")
    def remove(self) -> HTTPSeeOther:
        """Remove one of the person's devices, at once."""
        self.devices.remove(self.person, self._device_id(), datetime.now(UTC))
        self.request.session.flash("The device was removed; it can no longer approve.")
        return HTTPSeeOther(location=self.request.route_path("tpp.devices"))

    @view_config(route_name="tpp.devices.push", request_method="POST", renderer="json")
    def push(self) -> dict[str, Any]:
        """Store this browser's push subscription on one of the person's devices, or remove it (null)."""
        body = json_object(self.request)
        if "subscription" not in body:
            raise InvalidInput('"subscription" is missing; send null to turn notifications off')
        record = self.devices.subscribe(self.person, self._device_id(), body["subscription"], datetime.now(UTC))
        return {"device": {"id": record.id, "name": record.name, "notifications": record.push_subscription is not None}}

    def _device_id(self) -> int:
        return record_id(self.request.matchdict["device_id"], "no such device")


def __dir__() -> list[str]:
    return __all__
