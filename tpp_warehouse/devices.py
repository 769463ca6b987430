"""Devices: enrolling (a first device bootstraps, every later one is vouched for, a lost set is
recovered through someone else's voucher), confirming a session, listing, renaming, removing, and
which devices are past their cooldown (invariant I6).

Usage::

    devices = request.find_service(IDeviceService, context=None)   # see DeviceService.create_service
    register, vouch = devices.begin_enrolment("ann", now)   # vouch is None for ann's first device
    ...  # the page runs navigator.credentials.create(register.options), and .get(vouch.options) if any
    record = devices.finish_enrolment("ann", "Phone", (register.id, created_json), (vouch.id, got_json), now)
    devices.usable("ann", now)                             # devices past the cooldown may approve
    devices.remove("ann", record.id, now)                  # at once
    confirm = devices.begin_confirmation("ann", now)       # a session proves a device (tpp_warehouse.security)
    device = devices.finish_confirmation("ann", (confirm.id, got_json), now)
    devices.recover("cora", "ann", now)                    # cora vouches for ann, who lost every device

Every check runs before the first row is written, so a refused enrolment writes nothing but the
deletion of its challenges, which are used up before anything is verified. That deletion belongs to
the caller's transaction: a caller that rolls back on a refusal brings them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import (
    DecisionRefused,
    Device,
    Enrolment,
    EnrolmentRefused,
    IAuditLog,
    INotifier,
    InvalidInput,
    IPolicyStore,
    NotFound,
    PermissionDenied,
    PersonId,
    ProjectName,
    RecordAudit,
    ScopeKind,
    check_can_approve,
    check_enrolment,
    may_approve,
)

from .challenges import Ceremony
from .db import serialize
from .interfaces import IChallengeStore, IDeviceService, IHost
from .models import AuditRecord, DeviceRecord, RecoveryRecord
from .push import check_subscription
from .settings import TPPSettings
from .webauthn import (
    RegisteredCredential,
    assertion_options,
    credential_id_of,
    registration_options,
    verify_assertion,
    verify_registration,
)

__all__ = ["MAX_NAME", "DeviceService", "as_core_device"]

#: Characters a device's name may have (the column's width).
MAX_NAME = 64

_NOT_FOUND = "no such device"  # one message for unknown ids and other people's devices: no probing


def as_core_device(record: DeviceRecord) -> Device:
    """The core's view of a stored device, for the enrolment and cooldown rules."""
    return Device(person=PersonId(record.person), credential_id=record.credential_id, enrolled_at=record.enrolled_at)


@implementer(IDeviceService)
class DeviceService:
    """The ``tpp_devices`` table, with its audit entries and notifications, through ``session``."""

    def __init__(
        self,
        session: Session,
        *,
        challenges: IChallengeStore,
        policies: IPolicyStore,
        audit: IAuditLog,
        notifier: INotifier,
        settings: TPPSettings,
        host: IHost,
    ) -> None:
        self._session = session
        self._challenges = challenges
        self._policies = policies
        self._audit_log = audit
        self._notifier = notifier
        self._settings = settings
        self._host = host

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: TPP's session, and the collaborators found by interface."""
        return cls(
            request.tpp_db,
            challenges=request.find_service(IChallengeStore, context=None),
            policies=request.find_service(IPolicyStore, context=None),
            audit=request.find_service(IAuditLog, context=None),
            notifier=request.find_service(INotifier, context=None),
            settings=request.registry["tpp.settings"],
            host=request.find_service(IHost, context=None),
        )

    def devices(self, person: PersonId) -> list[DeviceRecord]:
        query = select(DeviceRecord).where(DeviceRecord.person == person)
        return list(self._session.scalars(query.order_by(DeviceRecord.enrolled_at, DeviceRecord.id)))

    def usable(self, person: PersonId, at: datetime) -> list[DeviceRecord]:
        """The person's devices that may approve at ``at``: those past ``tpp.device_cooldown``, oldest first.

        :raises InvalidInput: if ``at`` is not timezone-aware.
        """
        return [d for d in self.devices(person) if self.may_approve(d, at)]

    def may_approve(self, device: DeviceRecord, at: datetime) -> bool:
        """Whether ``device`` is past ``tpp.device_cooldown`` at ``at``.

        :raises InvalidInput: if ``at`` is not timezone-aware.
        """
        return may_approve(as_core_device(device), at=at, cooldown=self._settings.device_cooldown)

    def ready_at(self, device: DeviceRecord) -> datetime:
        """When ``device``'s cooldown ends: from then on it may approve."""
        return device.enrolled_at + self._settings.device_cooldown

    def approving(self, person: PersonId, credential_id: bytes, at: datetime) -> DeviceRecord:
        """The person's device that made an assertion with ``credential_id``, if it may approve at ``at``.

        :raises DecisionRefused: if it is not one of the person's devices, or is still in its cooldown.
        """
        device = self._by_credential(person, credential_id)
        if device is None:
            raise DecisionRefused("this security key or passkey is not one of your enrolled devices")
        check_can_approve(as_core_device(device), at=at, cooldown=self._settings.device_cooldown)
        return device

    def begin_enrolment(self, person: PersonId, at: datetime) -> tuple[Ceremony, Ceremony | None]:
        own = [d.credential_id for d in self.devices(person)]
        if not own:
            # Say it before the browser creates a credential that could never be stored.
            check_enrolment(
                person=person,
                credential_id=b"",
                devices=(),
                voucher=None,
                had_devices=self.had_devices(person),
                recovered_by=self._recovery_voucher(person, at),
            )
        register_id, register_nonce = self._challenges.issue(purpose="register", person=person, request_id=None, at=at)
        register = Ceremony(
            id=register_id,
            options=registration_options(
                rp_id=self._settings.rp_id,
                rp_name=self._settings.rp_name,
                user_name=person,
                user_handle=_user_handle(person),
                challenge=register_nonce,
                exclude=own,
            ),
        )
        if not own:
            return register, None
        # Any of the person's devices may vouch, those still in their cooldown too (tpp_core.devices).
        vouch_id, vouch_nonce = self._challenges.issue(purpose="vouch", person=person, request_id=None, at=at)
        vouch = Ceremony(
            id=vouch_id,
            options=assertion_options(rp_id=self._settings.rp_id, challenge=vouch_nonce, credential_ids=own),
        )
        return register, vouch

    def finish_enrolment(
        self,
        person: PersonId,
        name: str,
        registration: tuple[str, str],
        vouch: tuple[str, str] | None,
        at: datetime,
    ) -> DeviceRecord:
        # The steps: use up both challenges, check the name, verify the voucher's assertion and the
        # registration, admit the credential by the core's rules; only then write, and announce it.
        register_nonce, *vouch_nonce = self._use_challenges(person, registration, vouch, at)
        name = self._new_name(person, name)
        voucher: DeviceRecord | None = None
        new_sign_count = 0
        if vouch is not None:
            voucher, new_sign_count = self._own_assertion(person, vouch[1], vouch_nonce[0])
        credential = verify_registration(
            credential=registration[1],
            challenge=register_nonce,
            rp_id=self._settings.rp_id,
            origins=self._settings.origins,
        )
        recovered_by = None if voucher is not None else self._recovery_voucher(person, at)
        enrolment = self._admit(person, credential.credential_id, voucher, recovered_by)
        # Every check passed: write.
        if voucher is not None:
            voucher.sign_count = new_sign_count
        record = self._store(person, name, credential, enrolment, at)
        self._announce(record, enrolment, voucher, recovered_by, at)
        return record

    def _use_challenges(
        self, person: PersonId, registration: tuple[str, str], vouch: tuple[str, str] | None, at: datetime
    ) -> list[bytes]:
        """The nonces of the registration's challenge and the voucher's, if any, in that order."""
        # Used up before anything is verified, both of them even if one is refused: one attempt each.
        ceremonies = [(registration[0], "register")] + ([] if vouch is None else [(vouch[0], "vouch")])
        # One enrolment of a person at a time: a concurrent one then sees this device and is refused
        # (two "first" devices, or one name twice), instead of both passing the checks.
        serialize(self._session, f"person:{person}")
        return self._consume_all(person, at, ceremonies)

    def _admit(
        self, person: PersonId, credential_id: bytes, voucher: DeviceRecord | None, recovered_by: PersonId | None
    ) -> Enrolment:
        """How the core's enrolment rules admit the credential, given the devices it could clash with.

        :raises EnrolmentRefused: see :func:`tpp_core.check_enrolment`.
        """
        related = self._session.scalars(
            select(DeviceRecord).where(or_(DeviceRecord.person == person, DeviceRecord.credential_id == credential_id))
        )
        return check_enrolment(
            person=person,
            credential_id=credential_id,
            devices=[as_core_device(d) for d in related],
            voucher=None if voucher is None else as_core_device(voucher),
            had_devices=self.had_devices(person),
            recovered_by=recovered_by,
        )

    def _store(
        self, person: PersonId, name: str, credential: RegisteredCredential, enrolment: Enrolment, at: datetime
    ) -> DeviceRecord:
        """Write the admitted device; a recovered one replaces the devices the person lost."""
        if enrolment is Enrolment.RECOVERED:
            self._use_recovery_voucher(person, at)
        record = DeviceRecord(
            person=person,
            name=name,
            credential_id=credential.credential_id,
            public_key=credential.public_key,
            sign_count=credential.sign_count,
            enrolled_at=at,
            enrolment=enrolment.value,
            push_subscription=None,
        )
        self._session.add(record)
        self._session.flush()
        return record

    def _announce(
        self,
        record: DeviceRecord,
        enrolment: Enrolment,
        voucher: DeviceRecord | None,
        recovered_by: PersonId | None,
        at: datetime,
    ) -> None:
        """Audit the enrolment, and tell who must hear of it."""
        person = PersonId(record.person)
        self._audit(
            at,
            "tpp:device:enrolled",
            person,
            record,
            {
                "name": record.name,
                "enrolment": enrolment.value,
                "credential_id": record.credential_id.hex(),
                "vouched_by": None if voucher is None else voucher.id,
                "recovered_by": recovered_by,
            },
        )
        # The person's devices hear of it, the new one included. A first or recovered device had no
        # voucher of the person's own, so the people who share a policy with them hear of it too (I6).
        subject = f"device:{record.id}"
        self._notifier.tell({person}, subject, "device-enrolled", at)
        if enrolment is Enrolment.BOOTSTRAP:
            self._notifier.tell(self._co_owners(person), subject, "device-bootstrapped", at)
        if enrolment is Enrolment.RECOVERED and recovered_by is not None:
            self._notifier.tell(self._co_owners(person) | {recovered_by}, subject, "device-recovered", at)

    def had_devices(self, person: PersonId) -> bool:
        """Whether the person ever enrolled a device (the audit log keeps it after removals)."""
        query = select(AuditRecord.seq).where(AuditRecord.actor == person, AuditRecord.kind == "tpp:device:enrolled")
        return self._session.scalars(query.limit(1)).first() is not None

    def recover(self, voucher: PersonId, person: PersonId, at: datetime) -> RecoveryRecord:
        """``voucher`` vouches that ``person``, who lost their devices, may enrol a new one (which then
        replaces those they still have). Audited, and announced to the person's co-owners.

        :raises PermissionDenied: unless ``voucher`` is the registry's admin, or may manage a scope
            whose policy in force names ``person``; never for oneself.
        :raises InvalidInput: if ``person`` never had a device (they enrol a first one themselves).
        """
        if voucher == person:
            raise PermissionDenied("nobody can vouch for themselves; ask a co-owner or the registry's admin")
        if not self._may_vouch(voucher, person):
            raise PermissionDenied(
                f"only the registry's admin, or an owner of a project {person} approves for, may vouch for {person}"
            )
        if not self.had_devices(person):
            raise InvalidInput(f"{person} never had a device: they enrol their first one themselves")
        self._session.execute(  # one voucher at a time: a new one ends an unused one (which stays on record)
            update(RecoveryRecord)
            .where(RecoveryRecord.person == person, RecoveryRecord.used_at.is_(None), RecoveryRecord.expires_at > at)
            .values(expires_at=at)
        )
        record = RecoveryRecord(
            person=person, granted_by=voucher, granted_at=at, expires_at=at + self._settings.recovery_lifetime
        )
        self._session.add(record)
        self._session.flush()
        self._record(
            at,
            "tpp:device:recovery-vouched",
            voucher,
            f"person:{person}",
            {"person": person, "expires_at": record.expires_at.isoformat()},
        )
        self._notifier.tell(self._co_owners(person) - {voucher}, f"recovery:{record.id}", "recovery-vouched", at)
        return record

    def begin_confirmation(self, person: PersonId, at: datetime) -> Ceremony:
        """The assertion ceremony with which a session proves one of the person's devices.

        :raises EnrolmentRefused: if the person has no device to confirm with.
        """
        own = [d.credential_id for d in self.devices(person)]
        if not own:
            raise EnrolmentRefused(f"{person} has no device yet: enrol one on the devices page")
        ceremony_id, nonce = self._challenges.issue(purpose="confirm", person=person, request_id=None, at=at)
        return Ceremony(
            id=ceremony_id, options=assertion_options(rp_id=self._settings.rp_id, challenge=nonce, credential_ids=own)
        )

    def finish_confirmation(self, person: PersonId, ceremony: tuple[str, str], at: datetime) -> DeviceRecord:
        """Verify the assertion of :meth:`begin_confirmation`; returns the device that made it.

        :raises EnrolmentRefused: if the assertion is not from one of the person's devices.
        :raises WebAuthnRejected, InvalidInput: for a bad or replayed assertion.
        """
        ceremony_id, got = ceremony
        nonce = self._challenges.consume(ceremony_id, purpose="confirm", person=person, request_id=None, at=at)
        device, sign_count = self._own_assertion(person, got, nonce)
        device.sign_count = sign_count
        self._audit(at, "tpp:device:confirmed-session", person, device, {"name": device.name})
        return device

    def confirms(self, person: PersonId, device_id: object) -> bool:
        """Whether ``device_id`` is still one of the person's devices (a session's proof lapses when
        the device that gave it is removed)."""
        try:
            self._own_device(person, device_id)
        except NotFound:
            return False
        return True

    def _own_assertion(self, person: PersonId, got: str, nonce: bytes) -> tuple[DeviceRecord, int]:
        """The person's device that signed ``nonce`` in the assertion ``got``, and its new sign count
        (for the caller to store once every other check has passed)."""
        device = self._by_credential(person, credential_id_of(got))
        if device is None:
            raise EnrolmentRefused(f"the confirming device is not one of {person}'s devices")
        verified = verify_assertion(
            credential=got,
            challenge=nonce,
            rp_id=self._settings.rp_id,
            origins=self._settings.origins,
            public_key=device.public_key,
            sign_count=device.sign_count,
        )
        return device, verified.new_sign_count

    def _may_vouch(self, voucher: PersonId, person: PersonId) -> bool:
        if self._host.is_admin(voucher):
            return True
        return any(
            person in policy.people and self._host.may_manage(voucher, policy.scope)
            for policy in self._policies.policies()
        )

    def _recovery_voucher(self, person: PersonId, at: datetime) -> PersonId | None:
        """Who vouched for the person's recovery, if a voucher is unused and unexpired at ``at``."""
        query = select(RecoveryRecord).where(
            RecoveryRecord.person == person, RecoveryRecord.used_at.is_(None), RecoveryRecord.expires_at > at
        )
        record = self._session.scalars(query.order_by(RecoveryRecord.id.desc())).first()
        return None if record is None else PersonId(record.granted_by)

    def _use_recovery_voucher(self, person: PersonId, at: datetime) -> None:
        """Mark the voucher used, and remove the devices the person lost (audited one by one)."""
        self._session.execute(
            update(RecoveryRecord)
            .where(RecoveryRecord.person == person, RecoveryRecord.used_at.is_(None), RecoveryRecord.expires_at > at)
            .values(used_at=at)
        )
        for lost in self.devices(person):
            self.remove(person, lost.id, at)

    def _co_owners(self, person: PersonId) -> set[PersonId]:
        """Everyone named with ``person`` in a policy in force, and the owners of those projects."""
        people: set[PersonId] = set()
        for policy in self._policies.policies():
            if person in policy.people:
                people |= policy.people
                if policy.scope.kind is ScopeKind.PROJECT:
                    people |= self._host.owners(ProjectName(policy.scope.value))
        return people - {person}

    def rename(self, person: PersonId, device_id: int, name: str, at: datetime) -> DeviceRecord:
        """Rename one of the person's devices; ``at`` dates the audit entry.

        :raises NotFound: if the person has no device ``device_id``.
        :raises InvalidInput: if the name is not 1-64 printable characters, or names another of the
            person's devices.
        """
        record = self._own_device(person, device_id)
        name = self._new_name(person, name, renaming=record)
        if name != record.name:
            old, record.name = record.name, name
            self._session.flush()
            self._audit(at, "tpp:device:renamed", person, record, {"from": old, "to": name})
        return record

    def remove(self, person: PersonId, device_id: int, at: datetime) -> None:
        record = self._own_device(person, device_id)
        # Audited before the row goes, while its id is still the subject's.
        self._audit(
            at,
            "tpp:device:removed",
            person,
            record,
            {"name": record.name, "credential_id": record.credential_id.hex()},
        )
        self._session.delete(record)
        self._session.flush()

    def subscribe(self, person: PersonId, device_id: int, subscription: object, at: datetime) -> DeviceRecord:
        """Store the browser's push subscription on one of the person's devices (None turns it off).

        :raises NotFound: if the person has no device ``device_id``.
        :raises InvalidInput: naming what is wrong with the subscription (see
            :func:`~.push.check_subscription`); nothing is changed then.
        """
        record = self._own_device(person, device_id)
        checked = None if subscription is None else check_subscription(subscription)
        if checked != record.push_subscription:
            record.push_subscription = checked
            self._session.flush()
            # The endpoint's origin says which push service (and so which browser maker) is involved;
            # the rest of the URL is a capability and stays out of the log.
            service = None if checked is None else urlsplit(checked["endpoint"]).netloc
            self._audit(at, "tpp:device:push-subscribed", person, record, {"push_service": service})
        return record

    def forget_subscription(
        self, device_id: int, subscription: dict[str, Any], status: int | None, at: datetime
    ) -> None:
        """Remove a subscription its push service called gone, unless the device has a newer one."""
        record = self._session.get(DeviceRecord, device_id)
        if record is not None and record.push_subscription == subscription:
            record.push_subscription = None
            self._session.flush()
            self._record(at, "tpp:device:push-gone", None, f"device:{record.id}", {"status": status})

    # --- helpers ---------------------------------------------------------------------------------

    def _consume_all(self, person: PersonId, at: datetime, ceremonies: Sequence[tuple[object, str]]) -> list[bytes]:
        """The nonces of these (ceremony id, purpose) challenges, all used up before any error is raised."""
        nonces: list[bytes] = []
        refusals: list[InvalidInput] = []
        for ceremony_id, purpose in ceremonies:
            try:
                nonces.append(
                    self._challenges.consume(ceremony_id, purpose=purpose, person=person, request_id=None, at=at)
                )
            except InvalidInput as refusal:
                refusals.append(refusal)
        if refusals:
            raise refusals[0]
        return nonces

    def _own_device(self, person: PersonId, device_id: object) -> DeviceRecord:
        # Ids are 64-bit in the database; anything else cannot name a device (and SQLite would overflow).
        valid_id = isinstance(device_id, int) and not isinstance(device_id, bool) and 0 < device_id < 2**63
        record = self._session.get(DeviceRecord, device_id) if valid_id else None
        if record is None or record.person != person:
            raise NotFound(_NOT_FOUND)
        return record

    def _by_credential(self, person: PersonId, credential_id: bytes) -> DeviceRecord | None:
        """The person's device with this credential id, or None (another person's device too)."""
        query = select(DeviceRecord).where(DeviceRecord.person == person, DeviceRecord.credential_id == credential_id)
        return self._session.scalars(query).first()

    def _new_name(self, person: PersonId, name: object, *, renaming: DeviceRecord | None = None) -> str:
        if not isinstance(name, str):
            raise InvalidInput("a device's name must be text")
        name = name.strip()
        if not 0 < len(name) <= MAX_NAME or not name.isprintable():
            raise InvalidInput(f"a device's name must be 1 to {MAX_NAME} printable characters, got {name[:80]!r}")
        query = select(DeviceRecord.id).where(DeviceRecord.person == person, DeviceRecord.name == name)
        if renaming is not None:
            query = query.where(DeviceRecord.id != renaming.id)
        if self._session.scalars(query).first() is not None:
            raise InvalidInput(f"you already have a device named {name!r}; choose another name")
        return name

    def _audit(self, at: datetime, kind: str, person: PersonId, record: DeviceRecord, data: dict[str, Any]) -> None:
        self._record(at, kind, person, f"device:{record.id}", data)

    def _record(self, at: datetime, kind: str, actor: PersonId | None, subject: str, data: dict[str, Any]) -> None:
        self._audit_log.record(RecordAudit(at=at, kind=kind, actor=actor, subject=subject, data=data))


def _user_handle(person: PersonId) -> bytes:
    # Stable per person, so an authenticator keeps one passkey entry for them; opaque, as WebAuthn asks.
    return hashlib.sha256(b"tpp-user:" + person.encode("utf-8")).digest()


def __dir__() -> list[str]:
    return __all__
