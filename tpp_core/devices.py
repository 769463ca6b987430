"""Device enrolment rules (invariant I6).

Only a person who never had a device enrols a first one on their own (the bootstrap), and the adapter
announces it to the project's co-owners. Every further device needs a WebAuthn assertion from one of
the same person's devices (the voucher), and the adapter tells the person's other devices. A person who
had devices and lost them all is *recovered*: someone else (a co-owner, or the registry's admin) vouched
for them, never their password alone, and the adapter announces that as it does a bootstrap. A new
device may approve only once its cooldown has passed, which gives the owner time to notice a device
they did not add; removal is immediate.

>>> from datetime import datetime, timedelta, timezone
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> phone = Device(person="ann", credential_id=b"phone", enrolled_at=t)
>>> check_enrolment(person="ann", credential_id=b"phone", devices=[], voucher=None)
<Enrolment.BOOTSTRAP: 'bootstrap'>
>>> check_enrolment(person="ann", credential_id=b"key", devices=[phone], voucher=phone)
<Enrolment.VOUCHED: 'vouched'>
>>> check_enrolment(person="ann", credential_id=b"new", devices=[], voucher=None, had_devices=True, recovered_by="cora")
<Enrolment.RECOVERED: 'recovered'>
>>> may_approve(phone, at=t + timedelta(hours=1), cooldown=timedelta(days=1))
False
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import DecisionRefused, EnrolmentRefused, InvalidInput
from .identifiers import PersonId

__all__ = ["Device", "Enrolment", "check_can_approve", "check_enrolment", "may_approve"]


class Enrolment(enum.Enum):
    """How a device was admitted, which decides whom the adapter tells."""

    BOOTSTRAP = "bootstrap"  # the person's first device: announce to the co-owners
    VOUCHED = "vouched"  # approved by another device of the person: tell their other devices
    RECOVERED = "recovered"  # all devices lost, someone else vouched: announce to the co-owners


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """An enrolled WebAuthn credential of one person."""

    person: PersonId
    credential_id: bytes
    enrolled_at: datetime


def check_enrolment(
    *,
    person: PersonId,
    credential_id: bytes,
    devices: Iterable[Device],
    voucher: Device | None,
    had_devices: bool = False,
    recovered_by: PersonId | None = None,
) -> Enrolment:
    """Decide whether ``person`` may enrol the credential ``credential_id``.

    ``devices`` are all enrolled devices (any person); ``voucher`` is the device whose assertion the
    adapter verified for this enrolment, if any; ``had_devices`` says whether the person ever had a
    device (the adapter reads its audit log); ``recovered_by`` is the person whose unexpired recovery
    voucher for ``person`` the adapter holds, if any.

    :raises EnrolmentRefused: if the credential is already enrolled, a second device comes without a
        voucher, the voucher is not one of the person's current devices, or a person who had devices
        comes without someone else's recovery voucher.
    """
    known = list(devices)
    if any(d.credential_id == credential_id for d in known):
        raise EnrolmentRefused("this authenticator is already enrolled")
    own = [d for d in known if d.person == person]
    if voucher is not None:
        if not own:
            raise EnrolmentRefused(f"{person} has no device that could vouch for a new one")
        if voucher not in own:
            raise EnrolmentRefused(f"the confirming device is not one of {person}'s devices")
        return Enrolment.VOUCHED
    if recovered_by is not None and recovered_by != person:
        return Enrolment.RECOVERED  # the adapter removes the devices the person still has: lost ones
    if own:
        raise EnrolmentRefused(f"{person} already has a device; confirm the new one with it")
    if had_devices:
        # A password alone must not replace lost (or removed) devices: someone else must vouch.
        raise EnrolmentRefused(
            f"{person} had devices before; to enrol a new one, ask an owner of a project you approve"
            " for, or the registry's admin, for a recovery voucher"
        )
    return Enrolment.BOOTSTRAP


def may_approve(device: Device, *, at: datetime, cooldown: timedelta) -> bool:
    """Whether ``device`` has been enrolled for at least ``cooldown`` at time ``at``.

    :raises InvalidInput: if ``at`` is not timezone-aware.
    """
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise InvalidInput(f"the time of a decision must be timezone-aware, got {at!r}")
    return at >= device.enrolled_at + cooldown


def check_can_approve(device: Device, *, at: datetime, cooldown: timedelta) -> None:
    """Refuse a decision made with a device still in its cooldown.

    :raises DecisionRefused: naming the time from which the device may approve.
    """
    if not may_approve(device, at=at, cooldown=cooldown):
        ready = (device.enrolled_at + cooldown).isoformat()
        raise DecisionRefused(f"this device was enrolled recently and may approve from {ready}")


def __dir__() -> list[str]:
    return __all__
