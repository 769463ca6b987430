"""Device enrolment with real WebAuthn answers (I6): a bootstrap, then vouched devices, a cooldown, and
refusals that leave no device, audit entry or notification behind (I8, I10)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from zope.interface.verify import verifyClass

from tests.common.authenticator import SoftAuthenticator
from tests.common.encoding import b64u_decode
from tests.common.host import MemoryHost
from tests.common.registry import ORIGIN, SETTINGS, Registry
from tests.common.scenario import T0
from tpp_core import Device, EnrolmentRefused, InvalidInput, NotFound, PersonId
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.challenges import Ceremony
from tpp_warehouse.devices import DeviceService, as_core_device
from tpp_warehouse.interfaces import IDeviceService
from tpp_warehouse.models import AuditRecord, ChallengeRecord, DeviceRecord, NotificationRecord
from tpp_warehouse.settings import TPPSettings
from tpp_warehouse.webauthn import WebAuthnRejected

ANN, BOB = PersonId("ann"), PersonId("bob")
EVIL = "http://evil.example"
LATER = T0 + timedelta(hours=1)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def service(session: Session) -> DeviceService:
    return Registry(session, SETTINGS, MemoryHost()).devices


def answers(
    service: DeviceService,
    dev: SoftAuthenticator,
    person: PersonId,
    at: datetime,
    voucher_dev: SoftAuthenticator | None = None,
    *,
    origin: str = ORIGIN,
) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """Begin an enrolment and answer it as a browser would: ``dev`` registers, ``voucher_dev`` confirms."""
    register, vouch = service.begin_enrolment(person, at)
    created = json.dumps(dev.create(json.loads(register.options), origin))
    if voucher_dev is None:
        return (register.id, created), None
    assert vouch is not None, "the person has no device, so no confirmation was asked for"
    return (register.id, created), (vouch.id, json.dumps(voucher_dev.get(json.loads(vouch.options), origin)))


def enrol(
    service: DeviceService,
    dev: SoftAuthenticator,
    person: PersonId,
    name: str,
    at: datetime,
    voucher_dev: SoftAuthenticator | None = None,
) -> DeviceRecord:
    registration, vouch = answers(service, dev, person, at, voucher_dev)
    return service.finish_enrolment(person, name, registration, vouch, at)


@dataclass(frozen=True)
class Snapshot:
    """What a refused operation must leave as it was."""

    devices: list[tuple[int, str, str, int]]
    audit: int
    notifications: int

    @classmethod
    def of(cls, session: Session) -> Snapshot:
        rows = session.scalars(select(DeviceRecord).order_by(DeviceRecord.id))
        return cls(
            devices=[(d.id, d.person, d.name, d.sign_count) for d in rows],
            audit=count(session, AuditRecord),
            notifications=count(session, NotificationRecord),
        )


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def entries(session: Session) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.kind, e.subject, dict(e.data)) for e in DatabaseAuditLog(session).entries()]


# --- the service -------------------------------------------------------------------------------------


def test_implements_the_interface() -> None:
    assert verifyClass(IDeviceService, DeviceService)


def test_as_core_device(service: DeviceService) -> None:
    record = enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    assert as_core_device(record) == Device(person=ANN, credential_id=record.credential_id, enrolled_at=T0)


# --- enrolment ---------------------------------------------------------------------------------------


def test_the_first_device_is_a_bootstrap(session: Session, service: DeviceService) -> None:
    register, vouch = service.begin_enrolment(ANN, T0)
    assert vouch is None
    options = json.loads(register.options)
    assert options["excludeCredentials"] == []
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["rp"] == {"id": "localhost", "name": "TPP"}
    assert options["user"]["name"] == "ann"
    assert b64u_decode(options["user"]["id"]) == hashlib.sha256(b"tpp-user:ann").digest()

    dev = SoftAuthenticator()
    created = json.dumps(dev.create(options, ORIGIN))
    phone = service.finish_enrolment(ANN, "  Phone  ", (register.id, created), None, T0)

    assert (phone.person, phone.name, phone.credential_id) == ("ann", "Phone", dev.credential_id)
    assert (phone.enrolment, phone.enrolled_at, phone.sign_count, phone.push_subscription) == ("bootstrap", T0, 0, None)
    assert entries(session) == [
        (
            "tpp:device:enrolled",
            f"device:{phone.id}",
            {
                "name": "Phone",
                "enrolment": "bootstrap",
                "credential_id": dev.credential_id.hex(),
                "vouched_by": None,
                "recovered_by": None,
            },
        )
    ]
    told = session.scalars(select(NotificationRecord)).all()
    assert [(n.person, n.subject, n.reason, n.created_at, n.delivered_at) for n in told] == [
        ("ann", f"device:{phone.id}", "device-enrolled", T0, None)
    ]
    assert count(session, ChallengeRecord) == 0  # used up


def test_a_second_device_is_vouched_for_by_the_first(session: Session, service: DeviceService) -> None:
    phone_dev, key_dev = SoftAuthenticator(), SoftAuthenticator(alg=-8)
    phone = enrol(service, phone_dev, ANN, "Phone", T0)

    register, vouch = service.begin_enrolment(ANN, LATER)
    assert isinstance(vouch, Ceremony)
    excluded = json.loads(register.options)["excludeCredentials"]
    allowed = json.loads(vouch.options)["allowCredentials"]
    assert [b64u_decode(c["id"]) for c in excluded] == [b64u_decode(c["id"]) for c in allowed] == [phone.credential_id]
    assert json.loads(vouch.options)["userVerification"] == "required"
    created = json.dumps(key_dev.create(json.loads(register.options), ORIGIN))
    got = json.dumps(phone_dev.get(json.loads(vouch.options), ORIGIN))
    # The phone is still in its cooldown: that limits approving, not vouching.
    key = service.finish_enrolment(ANN, "Key", (register.id, created), (vouch.id, got), LATER)

    assert (key.enrolment, key.enrolled_at) == ("vouched", LATER)
    assert phone.sign_count == phone_dev.sign_count == 1
    assert entries(session)[-1] == (
        "tpp:device:enrolled",
        f"device:{key.id}",
        {
            "name": "Key",
            "enrolment": "vouched",
            "credential_id": key_dev.credential_id.hex(),
            "vouched_by": phone.id,
            "recovered_by": None,
        },
    )
    told = session.scalars(select(NotificationRecord).order_by(NotificationRecord.id)).all()
    assert [(n.person, n.subject) for n in told][-1] == ("ann", f"device:{key.id}")
    assert service.devices(ANN) == [phone, key]

    # A third one, vouched for by the second.
    third = enrol(service, SoftAuthenticator(), ANN, "Laptop", LATER, voucher_dev=key_dev)
    assert entries(session)[-1][2]["vouched_by"] == key.id
    assert service.devices(ANN) == [phone, key, third]


def test_a_second_device_without_a_voucher_is_refused(session: Session, service: DeviceService) -> None:
    enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(EnrolmentRefused, match="ann already has a device; confirm the new one with it"):
        enrol(service, SoftAuthenticator(), ANN, "Key", LATER)
    assert Snapshot.of(session) == before


def test_a_voucher_of_another_person_is_refused(session: Session, service: DeviceService) -> None:
    ann_dev = SoftAuthenticator()
    enrol(service, ann_dev, ANN, "Phone", T0)
    enrol(service, SoftAuthenticator(), BOB, "Phone", T0)
    before = Snapshot.of(session)
    # Bob's page asks one of Bob's devices to confirm; Ann's phone answers instead.
    with pytest.raises(EnrolmentRefused, match="the confirming device is not one of bob's devices"):
        enrol(service, SoftAuthenticator(), BOB, "Key", LATER, voucher_dev=ann_dev)
    assert Snapshot.of(session) == before  # Ann's phone's counter included


def test_a_voucher_that_is_not_enrolled_is_refused(session: Session, service: DeviceService) -> None:
    enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(EnrolmentRefused, match="the confirming device is not one of ann's devices"):
        enrol(service, SoftAuthenticator(), ANN, "Key", LATER, voucher_dev=SoftAuthenticator())
    assert Snapshot.of(session) == before


def test_a_voucher_cannot_vouch_for_itself(session: Session, service: DeviceService) -> None:
    dev = SoftAuthenticator()
    enrol(service, dev, ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(EnrolmentRefused, match="this authenticator is already enrolled"):
        enrol(service, dev, ANN, "Phone again", LATER, voucher_dev=dev)
    assert Snapshot.of(session) == before


def test_one_authenticator_cannot_be_enrolled_by_two_people(session: Session, service: DeviceService) -> None:
    dev = SoftAuthenticator()
    enrol(service, dev, ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(EnrolmentRefused, match="this authenticator is already enrolled"):
        enrol(service, dev, BOB, "Phone", LATER)
    assert Snapshot.of(session) == before


def test_a_registration_without_user_verification_is_refused(session: Session, service: DeviceService) -> None:
    with pytest.raises(WebAuthnRejected, match=r"user verification \(PIN or biometrics\) is required"):
        enrol(service, SoftAuthenticator(user_verifying=False), ANN, "Phone", T0)
    assert Snapshot.of(session) == Snapshot(devices=[], audit=0, notifications=0)


def test_a_vouch_without_user_verification_is_refused(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    phone_dev.user_verifying = False
    before = Snapshot.of(session)
    with pytest.raises(WebAuthnRejected, match=r"user verification \(PIN or biometrics\) is required"):
        enrol(service, SoftAuthenticator(), ANN, "Key", LATER, voucher_dev=phone_dev)
    assert Snapshot.of(session) == before


def test_a_bad_registration_after_a_good_vouch_changes_nothing(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(WebAuthnRejected, match="user verification"):
        enrol(service, SoftAuthenticator(user_verifying=False), ANN, "Key", LATER, voucher_dev=phone_dev)
    assert Snapshot.of(session) == before  # the phone's counter did not move either


def test_a_registration_answered_for_another_challenge_is_refused(session: Session, service: DeviceService) -> None:
    first, _ = service.begin_enrolment(ANN, T0)
    second, _ = service.begin_enrolment(ANN, T0)
    created = json.dumps(SoftAuthenticator().create(json.loads(first.options), ORIGIN))
    with pytest.raises(WebAuthnRejected, match="this confirmation was made for another page or request"):
        service.finish_enrolment(ANN, "Phone", (second.id, created), None, T0)
    assert Snapshot.of(session) == Snapshot(devices=[], audit=0, notifications=0)


def test_a_vouch_answered_for_another_challenge_is_refused(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    registration, old_vouch = answers(service, SoftAuthenticator(), ANN, LATER, phone_dev)
    assert old_vouch is not None
    _, fresh = service.begin_enrolment(ANN, LATER)
    assert fresh is not None
    before = Snapshot.of(session)
    # A confirmation made earlier, replayed against a fresh ceremony.
    with pytest.raises(WebAuthnRejected, match="another page or request"):
        service.finish_enrolment(ANN, "Key", registration, (fresh.id, old_vouch[1]), LATER)
    assert Snapshot.of(session) == before


def test_a_replayed_registration_is_refused(session: Session, service: DeviceService) -> None:
    registration, _ = answers(service, SoftAuthenticator(), ANN, T0)
    service.finish_enrolment(ANN, "Phone", registration, None, T0)
    before = Snapshot.of(session)
    with pytest.raises(InvalidInput, match="unknown or was already used"):
        service.finish_enrolment(ANN, "Phone 2", registration, None, T0)
    assert Snapshot.of(session) == before


def test_a_refused_attempt_uses_its_challenges_up(session: Session, service: DeviceService) -> None:
    registration, _ = answers(service, SoftAuthenticator(user_verifying=False), ANN, T0)
    with pytest.raises(WebAuthnRejected):
        service.finish_enrolment(ANN, "Phone", registration, None, T0)
    with pytest.raises(InvalidInput, match="already used"):
        service.finish_enrolment(ANN, "Phone", registration, None, T0)


def test_both_challenges_are_used_up_when_one_is_refused(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    registration, vouch = answers(service, SoftAuthenticator(), ANN, LATER, phone_dev)
    assert vouch is not None
    with pytest.raises(InvalidInput, match="unknown or was already used"):
        service.finish_enrolment(ANN, "Key", ("no-such-ceremony", registration[1]), vouch, LATER)
    assert count(session, ChallengeRecord) == 1  # the registration's own, never named
    with pytest.raises(InvalidInput, match="unknown or was already used"):
        service.finish_enrolment(ANN, "Key", registration, vouch, LATER)
    assert count(session, ChallengeRecord) == 0


def test_a_ceremony_of_another_person_is_refused(session: Session, service: DeviceService) -> None:
    registration, _ = answers(service, SoftAuthenticator(), ANN, T0)
    with pytest.raises(InvalidInput, match="started for something else"):
        service.finish_enrolment(BOB, "Phone", registration, None, T0)
    assert Snapshot.of(session) == Snapshot(devices=[], audit=0, notifications=0)


def test_a_vouch_ceremony_cannot_register(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    registration, vouch = answers(service, SoftAuthenticator(), ANN, LATER, phone_dev)
    assert vouch is not None
    before = Snapshot.of(session)
    with pytest.raises(InvalidInput, match="started for something else"):
        service.finish_enrolment(ANN, "Key", (vouch[0], registration[1]), (registration[0], vouch[1]), LATER)
    assert Snapshot.of(session) == before


def test_an_expired_ceremony_is_refused(session: Session, service: DeviceService) -> None:
    registration, _ = answers(service, SoftAuthenticator(), ANN, T0)
    with pytest.raises(InvalidInput, match="expired"):
        service.finish_enrolment(ANN, "Phone", registration, None, T0 + SETTINGS.challenge_lifetime)
    assert Snapshot.of(session) == Snapshot(devices=[], audit=0, notifications=0)


@pytest.mark.parametrize(
    ("register_origin", "vouch_origin"), [(EVIL, ORIGIN), (ORIGIN, EVIL)], ids=["register", "vouch"]
)
def test_an_answer_from_another_origin_is_refused(
    session: Session, service: DeviceService, register_origin: str, vouch_origin: str
) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    register, vouch = service.begin_enrolment(ANN, LATER)
    assert vouch is not None
    created = json.dumps(SoftAuthenticator().create(json.loads(register.options), register_origin))
    got = json.dumps(phone_dev.get(json.loads(vouch.options), vouch_origin))
    before = Snapshot.of(session)
    with pytest.raises(WebAuthnRejected, match=f"^unexpected origin: .* not {ORIGIN}$"):
        service.finish_enrolment(ANN, "Key", (register.id, created), (vouch.id, got), LATER)
    assert Snapshot.of(session) == before


def test_any_configured_origin_is_accepted(session: Session) -> None:
    settings = TPPSettings(
        rp_id="localhost",
        origins=(ORIGIN, "http://app.localhost:8080"),
        registry_name="https://registry.example",
    )
    service = Registry(session, settings, MemoryHost()).devices
    phone_dev = SoftAuthenticator()
    registration, _ = answers(service, phone_dev, ANN, T0, origin="http://app.localhost:8080")
    service.finish_enrolment(ANN, "Phone", registration, None, T0)
    registration, vouch = answers(
        service, SoftAuthenticator(), ANN, LATER, phone_dev, origin="http://app.localhost:8080"
    )
    assert service.finish_enrolment(ANN, "Key", registration, vouch, LATER).enrolment == "vouched"
    # Refusals that do not depend on the origin are reported as they are, not as a wrong origin.
    registration, _ = answers(service, SoftAuthenticator(user_verifying=False), BOB, T0, origin=ORIGIN)
    with pytest.raises(WebAuthnRejected, match="user verification"):
        service.finish_enrolment(BOB, "Phone", registration, None, T0)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: "not json",
        lambda body: "[]",
        lambda body: "{}",
        lambda body: json.dumps(json.loads(body) | {"response": "nope"}),
        lambda body: body[:-20],
        lambda body: None,
    ],
    ids=["not json", "array", "empty object", "no response", "truncated", "not text"],
)
@pytest.mark.parametrize("where", ["registration", "vouch"])
def test_malformed_credentials_are_invalid_input(
    session: Session, service: DeviceService, mangle: Any, where: str
) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    registration, vouch = answers(service, SoftAuthenticator(), ANN, LATER, phone_dev)
    assert vouch is not None
    if where == "registration":
        registration = (registration[0], mangle(registration[1]))
    else:
        vouch = (vouch[0], mangle(vouch[1]))
    before = Snapshot.of(session)
    with pytest.raises(InvalidInput):
        service.finish_enrolment(ANN, "Key", registration, vouch, LATER)
    assert Snapshot.of(session) == before


# --- names -------------------------------------------------------------------------------------------

BAD_NAMES = pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "1 to 64 printable characters"),
        ("   ", "1 to 64 printable characters"),
        ("x" * 65, "1 to 64 printable characters"),
        ("Phone\nKey", "1 to 64 printable characters"),
        ("Phone\x00", "1 to 64 printable characters"),
        (7, "must be text"),
        (None, "must be text"),
    ],
    ids=["empty", "blank", "too long", "newline", "nul", "int", "none"],
)


@BAD_NAMES
def test_a_bad_name_is_refused_at_enrolment(session: Session, service: DeviceService, name: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        enrol(service, SoftAuthenticator(), ANN, name, T0)
    assert Snapshot.of(session) == Snapshot(devices=[], audit=0, notifications=0)


def test_names_are_stripped_and_may_use_any_printable_character(service: DeviceService) -> None:
    name = "Ann\u2019s Pixel 8 \u2014 work \U0001f4f1" + "x" * 40
    assert enrol(service, SoftAuthenticator(), ANN, f"\t{name} ", T0).name == name
    assert len(enrol(service, SoftAuthenticator(), BOB, "y" * 64, T0).name) == 64


def test_a_duplicate_name_is_refused(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    enrol(service, phone_dev, ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(InvalidInput, match="you already have a device named 'Phone'; choose another name"):
        enrol(service, SoftAuthenticator(), ANN, " Phone ", LATER, voucher_dev=phone_dev)
    assert Snapshot.of(session) == before
    assert enrol(service, SoftAuthenticator(), BOB, "Phone", LATER).name == "Phone"  # another person's: fine


def test_rename(session: Session, service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    phone = enrol(service, phone_dev, ANN, "Phone", T0)
    key = enrol(service, SoftAuthenticator(), ANN, "Key", T0, voucher_dev=phone_dev)
    assert service.rename(ANN, phone.id, " Old phone ", LATER) is phone
    assert phone.name == "Old phone"
    assert entries(session)[-1] == ("tpp:device:renamed", f"device:{phone.id}", {"from": "Phone", "to": "Old phone"})

    before = Snapshot.of(session)
    assert service.rename(ANN, phone.id, "Old phone", LATER) is phone  # no change, nothing to audit
    with pytest.raises(InvalidInput, match="you already have a device named 'Key'"):
        service.rename(ANN, phone.id, "Key", LATER)
    with pytest.raises(InvalidInput, match="printable"):
        service.rename(ANN, key.id, "", LATER)
    assert Snapshot.of(session) == before


# --- not found ---------------------------------------------------------------------------------------


def unknown_ids(bobs: int) -> list[object]:
    return [bobs, 10_000, -1, "1", True, None]


def test_another_persons_device_cannot_be_renamed_or_removed(session: Session, service: DeviceService) -> None:
    bobs = enrol(service, SoftAuthenticator(), BOB, "Phone", T0).id
    enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    before = Snapshot.of(session)
    for device_id in unknown_ids(bobs):
        # Same message for someone else's device and for no device: ids cannot be probed.
        with pytest.raises(NotFound, match=r"^no such device$"):
            service.rename(ANN, device_id, "Mine now", LATER)  # type: ignore[arg-type]
        with pytest.raises(NotFound, match=r"^no such device$"):
            service.remove(ANN, device_id, LATER)  # type: ignore[arg-type]
    assert Snapshot.of(session) == before


# --- removal and cooldown ----------------------------------------------------------------------------


def test_removal_is_immediate_and_audited(session: Session, service: DeviceService) -> None:
    phone_dev, key_dev = SoftAuthenticator(), SoftAuthenticator()
    phone = enrol(service, phone_dev, ANN, "Phone", T0)
    key = enrol(service, key_dev, ANN, "Key", T0, voucher_dev=phone_dev)
    phone_id, credential = phone.id, phone.credential_id
    later = T0 + timedelta(days=2)
    assert service.usable(ANN, later) == [phone, key]

    service.remove(ANN, phone_id, later)
    assert service.devices(ANN) == service.usable(ANN, later) == [key]
    assert session.get(DeviceRecord, phone_id) is None
    assert entries(session)[-1] == (
        "tpp:device:removed",
        f"device:{phone_id}",
        {"name": "Phone", "credential_id": credential.hex()},
    )
    # A removed device can no longer vouch.
    with pytest.raises(EnrolmentRefused, match="not one of ann's devices"):
        enrol(service, SoftAuthenticator(), ANN, "Laptop", later, voucher_dev=phone_dev)


def test_removing_the_last_device_does_not_make_the_next_one_a_bootstrap(
    session: Session, service: DeviceService
) -> None:
    """The device-swap attack: whoever removed ann's devices (she, or a thief in her session) cannot
    then enrol a "first" device; it needs someone else's voucher."""
    phone = enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    service.remove(ANN, phone.id, LATER)
    assert service.devices(ANN) == []
    assert service.had_devices(ANN)
    before = Snapshot.of(session)
    with pytest.raises(EnrolmentRefused, match=r"^ann had devices before; to enrol a new one, ask an owner"):
        service.begin_enrolment(ANN, LATER)
    assert Snapshot.of(session) == before


def recovery_host() -> MemoryHost:
    return MemoryHost(owners_of={"acme": {"lead", "cora"}})


def ann_approves_acme(session: Session) -> None:
    from tests.common.scenario import group
    from tpp_core import Policy, Scope
    from tpp_warehouse.policies import PolicyStore

    policy = Policy(scope=Scope.project("acme"), version=1, groups=(group("maintainers", "ann", "lead"),))
    PolicyStore(session).add(policy, by=PersonId("lead"), at=T0, request_id=None)


def test_a_co_owners_voucher_recovers_a_person_who_lost_every_device(session: Session) -> None:
    service = Registry(session, SETTINGS, recovery_host()).devices
    ann_approves_acme(session)
    lost = enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    grant = service.recover(PersonId("lead"), ANN, LATER)
    assert (grant.person, grant.granted_by, grant.expires_at) == ("ann", "lead", LATER + SETTINGS.recovery_lifetime)
    assert entries(session)[-1] == (
        "tpp:device:recovery-vouched",
        "person:ann",
        {"person": "ann", "expires_at": grant.expires_at.isoformat()},
    )
    register, vouch = service.begin_enrolment(ANN, LATER)
    assert vouch is not None  # ann still has the lost phone; the recovery needs no answer from it
    new = service.finish_enrolment(
        ANN,
        "New",
        (register.id, json.dumps(SoftAuthenticator().create(json.loads(register.options), ORIGIN))),
        None,
        LATER,
    )
    assert new.enrolment == "recovered"
    assert [(d.id, d.name) for d in service.devices(ANN)] == [(new.id, "New")]  # the lost phone is gone
    assert ("tpp:device:removed", f"device:{lost.id}") in [e[:2] for e in entries(session)]
    told = {(n.person, n.reason) for n in session.scalars(select(NotificationRecord))}
    assert {("cora", "recovery-vouched"), ("lead", "device-recovered"), ("cora", "device-recovered")} <= told
    assert grant.used_at == LATER
    # Used once: a second new device needs the new one's voucher.
    with pytest.raises(EnrolmentRefused, match=r"^ann already has a device; confirm the new one with it$"):
        enrol(service, SoftAuthenticator(), ANN, "Another", LATER)


def test_a_new_recovery_voucher_ends_the_unused_one(session: Session) -> None:
    service = Registry(session, SETTINGS, recovery_host()).devices
    ann_approves_acme(session)
    enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    first = service.recover(PersonId("lead"), ANN, T0)
    second = service.recover(PersonId("root"), ANN, LATER)
    assert (first.expires_at, first.used_at) == (LATER, None)  # ended, and kept as the record of who vouched
    new = enrol(service, SoftAuthenticator(), ANN, "New", LATER)
    assert new.enrolment == "recovered"
    assert entries(session)[-1][2]["recovered_by"] == "root"
    assert second.used_at == LATER


def test_a_recovery_voucher_expires(session: Session) -> None:
    service = Registry(session, SETTINGS, recovery_host()).devices
    ann_approves_acme(session)
    phone = enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    service.remove(ANN, phone.id, T0)
    service.recover(PersonId("root"), ANN, T0)  # the registry's admin
    too_late = T0 + SETTINGS.recovery_lifetime
    with pytest.raises(EnrolmentRefused, match=r"^ann had devices before"):
        service.begin_enrolment(ANN, too_late)


@pytest.mark.parametrize(
    ("voucher", "message"),
    [
        ("ann", "nobody can vouch for themselves"),
        ("bob", "only the registry's admin, or an owner of a project ann approves for, may vouch for ann"),
    ],
)
def test_only_a_co_owner_or_the_admin_may_vouch(session: Session, voucher: str, message: str) -> None:
    from tpp_core import PermissionDenied

    service = Registry(session, SETTINGS, recovery_host()).devices
    ann_approves_acme(session)
    enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    before = Snapshot.of(session)
    with pytest.raises(PermissionDenied, match=f"^{re.escape(message)}"):
        service.recover(PersonId(voucher), ANN, LATER)
    assert Snapshot.of(session) == before


def test_confirming_a_session_proves_one_of_the_persons_devices(session: Session, service: DeviceService) -> None:
    dev = SoftAuthenticator()
    phone = enrol(service, dev, ANN, "Phone", T0)
    ceremony = service.begin_confirmation(ANN, LATER)
    assertion = json.dumps(dev.get(json.loads(ceremony.options), ORIGIN))
    assert service.finish_confirmation(ANN, (ceremony.id, assertion), LATER) == phone
    assert phone.sign_count == 1
    assert entries(session)[-1] == ("tpp:device:confirmed-session", f"device:{phone.id}", {"name": "Phone"})
    assert service.confirms(ANN, phone.id)
    assert not service.confirms(BOB, phone.id)
    assert not service.confirms(ANN, "1")
    with pytest.raises(InvalidInput):  # the challenge was used up
        service.finish_confirmation(ANN, (ceremony.id, assertion), LATER)
    with pytest.raises(EnrolmentRefused, match=r"^bob has no device yet: enrol one on the devices page$"):
        service.begin_confirmation(BOB, LATER)


def test_usable_honours_the_cooldown(service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    phone = enrol(service, phone_dev, ANN, "Phone", T0)
    key = enrol(service, SoftAuthenticator(), ANN, "Key", LATER, voucher_dev=phone_dev)
    assert service.usable(ANN, T0 + timedelta(hours=23)) == []
    assert service.usable(ANN, T0 + timedelta(hours=24)) == [phone]
    assert service.usable(ANN, LATER + timedelta(hours=24)) == [phone, key]
    assert service.usable(BOB, T0 + timedelta(days=9)) == []


def test_usable_refuses_a_naive_time(service: DeviceService) -> None:
    enrol(service, SoftAuthenticator(), ANN, "Phone", T0)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        service.usable(ANN, T0.replace(tzinfo=None) + timedelta(days=2))


def test_devices_lists_one_persons_devices_oldest_first(service: DeviceService) -> None:
    phone_dev = SoftAuthenticator()
    # Enrolled out of order: the list follows enrolled_at, then id.
    phone = enrol(service, phone_dev, ANN, "Phone", LATER)
    enrol(service, SoftAuthenticator(), BOB, "Phone", T0)
    key = enrol(service, SoftAuthenticator(), ANN, "Key", T0, voucher_dev=phone_dev)
    laptop = enrol(service, SoftAuthenticator(), ANN, "Laptop", T0, voucher_dev=phone_dev)
    assert service.devices(ANN) == [key, laptop, phone]


# --- audit -------------------------------------------------------------------------------------------


def test_the_audit_chain_verifies_after_a_sequence(engine: Engine) -> None:
    phone_dev = SoftAuthenticator()
    with Session(engine) as session, session.begin():
        service = Registry(session, SETTINGS, MemoryHost()).devices
        phone = enrol(service, phone_dev, ANN, "Phone", T0)
        key = enrol(service, SoftAuthenticator(), ANN, "Key", LATER, voucher_dev=phone_dev)
        with pytest.raises(EnrolmentRefused):
            enrol(service, SoftAuthenticator(), ANN, "Laptop", LATER)
        service.rename(ANN, key.id, "Blue key", LATER)
        enrol(service, SoftAuthenticator(), BOB, "Phone", LATER)
        service.remove(ANN, phone.id, LATER)
    with Session(engine) as session:
        assert DatabaseAuditLog(session).verify() == 5
        assert [kind for kind, _, _ in entries(session)] == [
            "tpp:device:enrolled",
            "tpp:device:enrolled",
            "tpp:device:renamed",
            "tpp:device:enrolled",
            "tpp:device:removed",
        ]
        assert [(d.person, d.name) for d in session.scalars(select(DeviceRecord).order_by(DeviceRecord.id))] == [
            ("ann", "Blue key"),
            ("bob", "Phone"),
        ]


@pytest.mark.service
def test_two_first_devices_at_once_admit_one_on_postgresql(postgresql_engine: Engine) -> None:
    """Two browsers finish a "first device" enrolment of one person at the same moment: one wins,
    the other is refused as a second device without a voucher (not both bootstraps, not a 500)."""
    import threading

    from tests.common.host import MemoryHost

    host = MemoryHost()
    answers = []
    with Session(postgresql_engine) as session, session.begin():
        service = Registry(session, SETTINGS, host).devices
        for _ in range(2):
            registration, vouch = service.begin_enrolment(ANN, T0)
            assert vouch is None
            created = SoftAuthenticator().create(json.loads(registration.options), ORIGIN)
            answers.append((registration.id, json.dumps(created)))
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def finish(n: int) -> None:
        start.wait()
        try:
            with Session(postgresql_engine) as session, session.begin():
                outcomes.append(
                    Registry(session, SETTINGS, host).devices.finish_enrolment(ANN, f"d{n}", answers[n], None, T0)
                )
        except EnrolmentRefused as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=finish, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["DeviceRecord", "EnrolmentRefused"]
    assert "already has a device" in str(next(o for o in outcomes if isinstance(o, EnrolmentRefused)))
    with Session(postgresql_engine) as session:
        assert [d.enrolment for d in Registry(session, SETTINGS, host).devices.devices(ANN)] == ["bootstrap"]
