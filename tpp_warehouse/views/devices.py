"""The devices page: the signed-in person's devices, enrolling this one, renaming and removing (I6).

Enrolling is two JSON calls from ``static/devices.js``::

    POST /tpp/devices/begin   {}  -> {"registration": {"id", "options"}, "vouch": {"id", "options"} | null}
    ...                       navigator.credentials.get(vouch.options), if any, then .create(registration.options)
    POST /tpp/devices/finish  {"name", "registration": {"id", "credential"}, "vouch": {"id", "credential"} | null}
                              -> {"device": {"id", "name"}}

Notifications: the page registers the service worker (``/tpp/sw.js``), subscribes with the
registry's VAPID key and stores the subscription on the device the person picks::

    POST /tpp/devices/<id>/push {"subscription": PushSubscription.toJSON() | null} -> {"device": {…}}

Renaming, removing and vouching for someone's recovery (``POST /tpp/recoveries`` with ``person``)
are plain forms that redirect back to the page. Every view needs a browser session (invariant I3)
and every POST a CSRF token; every change but enrolling (which carries its own WebAuthn ceremonies)
needs a session confirmed with a device (:func:`~tpp_warehouse.security.confirmed_person`).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from tpp_core import Enrolment, IClock, InvalidInput, person_id
from tpp_warehouse.forms import ceremony_answer, json_object, record_id, required_field, required_text
from tpp_warehouse.interfaces import IDeviceService
from tpp_warehouse.security import confirmed_person, remember_confirmation, session_person
from tpp_warehouse.vapid import application_server_key
from tpp_warehouse.views.display import when

__all__ = ["DeviceViews"]

#: How each way of admitting a device reads on the page.
ADMITTED = {
    Enrolment.BOOTSTRAP.value: "first device (your co-owners were told)",
    Enrolment.VOUCHED.value: "confirmed with another of your devices",
    Enrolment.RECOVERED.value: "recovered: someone else vouched for you (your co-owners were told)",
}


@view_defaults(require_csrf=True)
class DeviceViews:
    """The devices page and its endpoints; each needs a browser session."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.clock = request.find_service(IClock, context=None)
        self.person = session_person(request)
        self.devices = request.find_service(IDeviceService, context=None)

    @view_config(route_name="tpp.devices", request_method="GET", renderer="tpp_warehouse:templates/tpp/devices.jinja2")
    def page(self) -> dict[str, Any]:
        """The person's devices, oldest first, with when each may approve."""
        now = self.clock.now()
        settings = self.request.registry["tpp.settings"]
        devices = self.devices.devices(self.person)
        return {
            "messages": self.request.session.pop_flash(),
            # Without a device left, a person who had some needs someone else's recovery voucher.
            "had_devices": not devices and self.devices.had_devices(self.person),
            "vapid_key": application_server_key(settings),
            # The service worker is served at the prefix, so it may control every page below it.
            "worker_scope": settings.route_prefix + "/",
            "devices": [
                {
                    "id": d.id,
                    "name": d.name,
                    "enrolled": d.enrolled_at,
                    "may_approve": self.devices.may_approve(d, now),
                    "ready": self.devices.ready_at(d),
                    "admitted": ADMITTED.get(d.enrolment, d.enrolment),
                    "notifications": d.push_subscription is not None,
                }
                for d in devices
            ],
        }

    @view_config(route_name="tpp.devices.begin", request_method="POST", renderer="json")
    def begin(self) -> dict[str, Any]:
        """Start enrolling this device; a second device must be vouched for by one already enrolled."""
        registration, vouch = self.devices.begin_enrolment(self.person, self.clock.now())
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
        at = self.clock.now()
        record = self.devices.finish_enrolment(self.person, name, registration, vouch, at)
        remember_confirmation(self.request, self.person, record.id, at)  # the session proved this device
        return {"device": {"id": record.id, "name": record.name}}

    @view_config(route_name="tpp.devices.rename", request_method="POST")
    def rename(self) -> HTTPSeeOther:
        """Rename one of the person's devices from the page's form."""
        at = self.clock.now()
        person = confirmed_person(self.request, at)
        record = self.devices.rename(person, self._device_id(), self.request.POST.get("name"), at)
        self.request.session.flash(f"Renamed to “{record.name}”.")
        return HTTPSeeOther(location=self.request.route_path("tpp.devices"))

    @view_config(route_name="tpp.devices.remove", request_method="POST")
    def remove(self) -> HTTPSeeOther:
        """Remove one of the person's devices, at once."""
        at = self.clock.now()
        self.devices.remove(confirmed_person(self.request, at), self._device_id(), at)
        self.request.session.flash("The device was removed; it can no longer approve.")
        return HTTPSeeOther(location=self.request.route_path("tpp.devices"))

    @view_config(route_name="tpp.recover", request_method="POST")
    def recover(self) -> HTTPSeeOther:
        """Vouch for someone who lost every device: they may enrol one new device (which replaces those)."""
        at = self.clock.now()
        voucher = confirmed_person(self.request, at)
        record = self.devices.recover(
            voucher,
            person_id(
                required_field(self.request, "person", "name the registry user to vouch for in the person field")
            ),
            at,
        )
        self.request.session.flash(
            f"You vouched for {record.person}: until {when(record.expires_at)} they may enrol one new device,"
            " which replaces any they still have. Their co-owners were told."
        )
        return HTTPSeeOther(location=self.request.route_path("tpp.devices"))

    @view_config(route_name="tpp.devices.push", request_method="POST", renderer="json")
    def push(self) -> dict[str, Any]:
        """Store this browser's push subscription on one of the person's devices, or remove it (null)."""
        body = json_object(self.request)
        if "subscription" not in body:
            raise InvalidInput('"subscription" is missing; send null to turn notifications off')
        at = self.clock.now()
        record = self.devices.subscribe(confirmed_person(self.request, at), self._device_id(), body["subscription"], at)
        return {"device": {"id": record.id, "name": record.name, "notifications": record.push_subscription is not None}}

    def _device_id(self) -> int:
        return record_id(self.request.matchdict["device_id"], "no such device")


def __dir__() -> list[str]:
    return __all__
