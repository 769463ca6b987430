"""Device enrolment rules (invariant I6).

A person's first device is a bootstrap: it is allowed, and the adapter announces it to the project's
co-owners. Every further device needs a WebAuthn assertion from one of the same person's devices (the
voucher), and the adapter tells the person's other devices. A new device may approve only once its
cooldown has passed, which gives the owner time to notice a device they did not add; removal is
immediate and needs no rule.

>>> from datetime import datetime, timedelta, timezone
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> phone = Device(person="ann", credential_id=b"phone", enrolled_at=t)
>>> check_enrolment(person="ann", credential_id=b"phone", devices=[], voucher=None)
<Enrolment.BOOTSTRAP: 'bootstrap'>
>>> check_enrolment(person="ann", credential_id=b"key", devices=[phone], voucher=phone)
<Enrolment.VOUCHED: 'vouched'>
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """An enrolled WebAuthn credential of one person."""

    person: PersonId
    credential_id: bytes
    enrolled_at: datetime


def check_enrolment(
    *, person: PersonId, credential_id: bytes, devices: Iterable[Device], voucher: Device | None
) -> Enrolment:
    """Decide whether ``person`` may enrol the credential ``credential_id``.

    ``devices`` are all enrolled devices (any person); ``voucher`` is the device whose assertion the
    adapter verified for this enrolment, if any.

    :raises EnrolmentRefused: if the credential is already enrolled, a second device comes without a
        voucher, or the voucher is not one of the person's current devices.
    """
    known = list(devices)
    if any(d.credential_id == credential_id for d in known):
        raise EnrolmentRefused("this authenticator is already enrolled")
    own = [d for d in known if d.person == person]
    if not own:
        if voucher is not None:
            raise EnrolmentRefused(f"{person} has no device that could vouch for a new one")
        return Enrolment.BOOTSTRAP
    if voucher is None:
        raise EnrolmentRefused(f"{person} already has a device; confirm the new one with it")
    if voucher not in own:
        raise EnrolmentRefused(f"the confirming device is not one of {person}'s devices")
    return Enrolment.VOUCHED


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
