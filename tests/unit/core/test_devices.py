"""Device enrolment and cooldown (invariant I6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tpp_core import devices
from tpp_core.devices import Device, Enrolment, check_can_approve, check_enrolment, may_approve
from tpp_core.errors import DecisionRefused, EnrolmentRefused, InvalidInput

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)

ANN_PHONE = Device(person="ann", credential_id=b"ann-phone", enrolled_at=T0)
ANN_KEY = Device(person="ann", credential_id=b"ann-key", enrolled_at=T0 + DAY)
BOB_PHONE = Device(person="bob", credential_id=b"bob-phone", enrolled_at=T0)


@pytest.mark.parametrize(
    "devices",
    [
        pytest.param([], id="nobody-has-devices"),
        pytest.param([BOB_PHONE], id="only-others-have-devices"),
    ],
)
def test_first_device_is_a_bootstrap(devices: list[Device]) -> None:
    enrolment = check_enrolment(person="ann", credential_id=b"ann-phone", devices=devices, voucher=None)
    assert enrolment is Enrolment.BOOTSTRAP


@pytest.mark.parametrize(
    ("devices", "voucher"),
    [
        pytest.param([ANN_PHONE], ANN_PHONE, id="one-device"),
        pytest.param([ANN_PHONE, ANN_KEY, BOB_PHONE], ANN_KEY, id="newer-device-vouches"),
    ],
)
def test_further_device_vouched_by_an_own_device(devices: list[Device], voucher: Device) -> None:
    enrolment = check_enrolment(person="ann", credential_id=b"ann-laptop", devices=devices, voucher=voucher)
    assert enrolment is Enrolment.VOUCHED


@pytest.mark.parametrize("devices", [pytest.param([], id="none-left"), pytest.param([BOB_PHONE], id="others-left")])
def test_a_person_who_had_devices_is_recovered_only_through_someone_elses_voucher(devices: list[Device]) -> None:
    enrolment = check_enrolment(
        person="ann", credential_id=b"ann-new", devices=devices, voucher=None, had_devices=True, recovered_by="cora"
    )
    assert enrolment is Enrolment.RECOVERED


@pytest.mark.parametrize(
    "recovered_by", [pytest.param(None, id="password-alone"), pytest.param("ann", id="own-voucher")]
)
def test_a_person_who_had_devices_cannot_bootstrap_again(recovered_by: str | None) -> None:
    """The device-swap attack: remove every device with the password, then enrol the attacker's."""
    with pytest.raises(EnrolmentRefused, match=r"^ann had devices before; to enrol a new one, ask an owner"):
        check_enrolment(
            person="ann",
            credential_id=b"attacker",
            devices=[BOB_PHONE],
            voucher=None,
            had_devices=True,
            recovered_by=recovered_by,
        )


def test_a_recovery_voucher_admits_a_device_of_a_person_whose_devices_are_lost() -> None:
    """Lost devices may still be enrolled (nobody could remove them without a device): a recovery
    admits the new one, and the adapter then removes the lost ones."""
    enrolment = check_enrolment(
        person="ann", credential_id=b"ann-new", devices=[ANN_PHONE], voucher=None, had_devices=True, recovered_by="cora"
    )
    assert enrolment is Enrolment.RECOVERED


def test_an_own_devices_voucher_wins_over_a_recovery_voucher() -> None:
    enrolment = check_enrolment(
        person="ann", credential_id=b"ann-new", devices=[ANN_PHONE], voucher=ANN_PHONE, recovered_by="cora"
    )
    assert enrolment is Enrolment.VOUCHED


def test_devices_may_be_a_one_shot_iterable() -> None:
    """Adapters pass query results; the devices must be read once, not iterated again empty."""
    enrolment = check_enrolment(person="ann", credential_id=b"ann-laptop", devices=iter([ANN_PHONE]), voucher=ANN_PHONE)
    assert enrolment is Enrolment.VOUCHED


@pytest.mark.parametrize(
    ("credential_id", "devices", "voucher", "message"),
    [
        pytest.param(
            b"ann-laptop",
            [ANN_PHONE],
            None,
            "ann already has a device; confirm the new one with it",
            id="second-device-without-voucher",
        ),
        pytest.param(
            b"ann-laptop",
            [ANN_PHONE, BOB_PHONE],
            BOB_PHONE,
            "the confirming device is not one of ann's devices",
            id="voucher-of-another-person",
        ),
        pytest.param(
            b"ann-laptop",
            [ANN_PHONE],
            ANN_KEY,
            "the confirming device is not one of ann's devices",
            id="voucher-removed",
        ),
        pytest.param(
            b"ann-laptop",
            [ANN_PHONE],
            Device(person="ann", credential_id=b"ann-phone", enrolled_at=T0 + DAY),
            "the confirming device is not one of ann's devices",
            id="voucher-forged-from-a-credential-id",
        ),
        pytest.param(
            b"ann-phone",
            [],
            ANN_PHONE,
            "ann has no device that could vouch for a new one",
            id="voucher-for-the-first-device",
        ),
        pytest.param(
            b"ann-phone",
            [BOB_PHONE],
            BOB_PHONE,
            "ann has no device that could vouch for a new one",
            id="other-persons-voucher-for-the-first-device",
        ),
        pytest.param(
            b"ann-phone",
            [ANN_PHONE],
            ANN_PHONE,
            "this authenticator is already enrolled",
            id="own-credential-again",
        ),
        pytest.param(
            b"bob-phone",
            [BOB_PHONE],
            None,
            "this authenticator is already enrolled",
            id="another-persons-credential-as-bootstrap",
        ),
        pytest.param(
            b"bob-phone",
            [ANN_PHONE, BOB_PHONE],
            ANN_PHONE,
            "this authenticator is already enrolled",
            id="another-persons-credential-vouched",
        ),
    ],
)
def test_enrolment_refused(credential_id: bytes, devices: list[Device], voucher: Device | None, message: str) -> None:
    with pytest.raises(EnrolmentRefused, match=f"^{re.escape(message)}$"):
        check_enrolment(person="ann", credential_id=credential_id, devices=devices, voucher=voucher)


@pytest.mark.parametrize(
    ("at", "cooldown", "allowed"),
    [
        pytest.param(T0 - DAY, DAY, False, id="before-enrolment"),
        pytest.param(T0, DAY, False, id="at-enrolment"),
        pytest.param(T0 + DAY - TICK, DAY, False, id="one-microsecond-early"),
        pytest.param(T0 + DAY, DAY, True, id="exactly-at-the-boundary"),
        pytest.param(T0 + DAY + TICK, DAY, True, id="one-microsecond-late"),
        pytest.param(T0 + 30 * DAY, DAY, True, id="long-after"),
        pytest.param(T0, timedelta(0), True, id="no-cooldown"),
        pytest.param(
            datetime(2026, 1, 2, 2, tzinfo=timezone(timedelta(hours=2))), DAY, True, id="boundary-in-another-zone"
        ),
        pytest.param(
            datetime(2026, 1, 2, 1, 59, tzinfo=timezone(timedelta(hours=2))), DAY, False, id="early-in-another-zone"
        ),
    ],
)
def test_cooldown(at: datetime, cooldown: timedelta, allowed: bool) -> None:
    assert may_approve(ANN_PHONE, at=at, cooldown=cooldown) is allowed
    if allowed:
        check_can_approve(ANN_PHONE, at=at, cooldown=cooldown)
    else:
        with pytest.raises(DecisionRefused, match=re.escape("may approve from 2026-01-02T00:00:00+00:00")):
            check_can_approve(ANN_PHONE, at=at, cooldown=cooldown)


@pytest.mark.parametrize(
    ("device", "cooldown", "ready"),
    [
        (ANN_PHONE, DAY, "2026-01-02T00:00:00+00:00"),
        (ANN_KEY, timedelta(hours=36), "2026-01-03T12:00:00+00:00"),
        (
            Device(
                person="ann", credential_id=b"k", enrolled_at=datetime(2026, 1, 1, tzinfo=timezone(-timedelta(hours=5)))
            ),
            timedelta(minutes=90),
            "2026-01-01T01:30:00-05:00",
        ),
    ],
)
def test_refusal_names_the_ready_time(device: Device, cooldown: timedelta, ready: str) -> None:
    message = f"this device was enrolled recently and may approve from {ready}"
    with pytest.raises(DecisionRefused, match=f"^{re.escape(message)}$"):
        check_can_approve(device, at=device.enrolled_at, cooldown=cooldown)


def test_public_names() -> None:
    assert dir(devices) == ["Device", "Enrolment", "check_can_approve", "check_enrolment", "may_approve"]


@pytest.mark.parametrize("at", [datetime(2026, 1, 2), "2026-01-02T00:00:00+00:00"], ids=["naive", "text"])
def test_may_approve_refuses_a_time_without_a_zone(at: object) -> None:
    with pytest.raises(InvalidInput, match="the time of a decision must be timezone-aware"):
        may_approve(ANN_PHONE, at=at, cooldown=timedelta(hours=1))  # type: ignore[arg-type]
