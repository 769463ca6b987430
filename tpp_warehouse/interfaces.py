"""The services views look up by interface, the collaborators services are built from, and the port
a host registry implements.

Views call ``request.find_service(IApprovalService, context=None)`` and never touch the database.
Every method runs in the caller's transaction and raises :class:`~tpp_core.errors.TPPError`
subclasses for anything a user can cause (unknown ids, refused decisions, bad WebAuthn payloads).

Each service's ``create_service`` factory finds its collaborators by interface too: these, and the
ports of :mod:`tpp_core.interfaces` (``IRequestStore``, ``IPolicyStore``, ``IAuditLog``,
``INotifier``, ``IClock``), all registered in ``tpp_warehouse.includeme``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zope.interface import Interface

from tpp_core import IRegistryHost

if TYPE_CHECKING:
    from pyramid.request import Request

    from tpp_core import (
        Action,
        ApplyPolicy,
        ApprovalRequest,
        PersonId,
        Policy,
        ProjectName,
        ReleaseFile,
        RequestId,
        Scope,
        Verdict,
    )

    from .challenges import Ceremony
    from .models import DeviceRecord, InvitationRecord, PolicyRecord, RecoveryRecord
    from .unopened import Unopened

__all__ = [
    "IApprovalService",
    "IChallengeStore",
    "IDeviceService",
    "IEffects",
    "IHost",
    "IInvitationService",
    "IPolicyService",
]


class IHost(IRegistryHost):
    """What the host registry tells TPP; one small adapter per host (Warehouse-shaped, devpi)."""

    def session_person(request: Request) -> PersonId | None:
        """Return who is logged in through a browser session, or None.

        Must return None for API tokens and basic auth: those never reach approval, policy or
        device endpoints (invariant I3).
        """

    def credential_person(request: Request) -> PersonId | None:
        """Return who is behind any credential the host accepts, tokens included, or None.

        Only the status JSON uses it, so CI can poll with its upload token.
        """

    def may_manage(person: PersonId, scope: Scope) -> bool:
        """Return whether ``person`` may propose policies for ``scope`` (e.g. a project owner)."""

    def owners(project: ProjectName) -> frozenset[PersonId]:
        """Return the project's owners in the host; they hear about its requests' outcomes."""

    def is_admin(person: PersonId) -> bool:
        """Return whether ``person`` administers the registry (devpi's root, Warehouse's admins); they
        may vouch for anyone's recovery after all their devices were lost."""

    def held(project: ProjectName, version: str) -> list[tuple[ReleaseFile, PersonId]]:
        """Return the version's held files (uploaded, neither published nor deleted), each with who
        uploaded it, whether a request covers them yet or not. The status JSON tells their uploader
        that a request is opening before it exists."""

    def unowned(person: PersonId) -> list[tuple[ProjectName, str]]:
        """Return the versions (project, version) holding files ``person`` uploaded to a project that
        has no owner in the host, by project and version. No default policy can name an owner there,
        so unless a prefix policy governs them they wait for a policy; a host whose every project has
        an owner returns none."""


class IChallengeStore(Interface):
    """Server-side WebAuthn challenges: single-use, expiring, bound to their purpose (I2)."""

    def issue(*, purpose: str, person: PersonId, request_id: RequestId | None, at: datetime) -> tuple[str, bytes]:
        """Store a fresh nonce for one ceremony; return its id and the nonce."""

    def consume(
        ceremony_id: object, *, purpose: str, person: PersonId, request_id: RequestId | None, at: datetime
    ) -> bytes:
        """Delete the challenge and return its nonce, if it was issued for exactly this use and has not
        expired at ``at``. Raises InvalidInput otherwise."""


class IEffects(Interface):
    """Carries out a request's actions in the caller's transaction (audit, outbox, publish, purge)."""

    def run(request: ApprovalRequest, actions: Iterable[Action], at: datetime) -> None:
        """Carry out ``actions`` in order. Raises whatever the host raised; TypeError for an
        ApplyPolicy, which :meth:`IPolicyService.apply` carries out."""


class IDeviceService(Interface):
    """Enrolling, listing, renaming and removing the devices people approve with (I6)."""

    def devices(person: PersonId) -> list[DeviceRecord]:
        """Return the person's devices, oldest first."""

    def usable(person: PersonId, at: datetime) -> list[DeviceRecord]:
        """Return the person's devices that may approve at ``at`` (past the cooldown), oldest first."""

    def may_approve(device: DeviceRecord, at: datetime) -> bool:
        """Return whether ``device`` is past its cooldown at ``at``."""

    def ready_at(device: DeviceRecord) -> datetime:
        """Return when ``device``'s cooldown ends, from which it may approve."""

    def approving(person: PersonId, credential_id: bytes, at: datetime) -> DeviceRecord:
        """Return the person's device with this credential, if it may approve at ``at``. Raises
        DecisionRefused (not one of the person's devices, or still in its cooldown)."""

    def begin_enrolment(person: PersonId, at: datetime) -> tuple[Ceremony, Ceremony | None]:
        """Return the registration ceremony and, if the person has a device already, the assertion
        ceremony with which one of those devices must vouch for the new one."""

    def finish_enrolment(
        person: PersonId,
        name: str,
        registration: tuple[str, str],
        vouch: tuple[str, str] | None,
        at: datetime,
    ) -> DeviceRecord:
        """Verify the registration (ceremony id, credential JSON) and the voucher's assertion, if
        any, then store the device, audit it, and tell the person (all their devices hear it).
        Raises EnrolmentRefused, WebAuthnRejected, InvalidInput, NotFound."""

    def rename(person: PersonId, device_id: int, name: str, at: datetime) -> DeviceRecord:
        """Rename one of the person's devices, and audit it. Raises NotFound, InvalidInput."""

    def remove(person: PersonId, device_id: int, at: datetime) -> None:
        """Remove one of the person's devices at once, and audit it. Raises NotFound."""

    def had_devices(person: PersonId) -> bool:
        """Return whether the person ever enrolled a device (then a password alone enrols no new one)."""

    def recover(voucher: PersonId, person: PersonId, at: datetime) -> RecoveryRecord:
        """Vouch that ``person``, who lost their devices, may enrol one new device (which replaces the
        others); audited and announced. Raises PermissionDenied, InvalidInput."""

    def begin_confirmation(person: PersonId, at: datetime) -> Ceremony:
        """Return the assertion ceremony with which a session proves one of the person's devices.
        Raises EnrolmentRefused (no device)."""

    def finish_confirmation(person: PersonId, ceremony: tuple[str, str], at: datetime) -> DeviceRecord:
        """Verify that assertion (ceremony id, credential JSON), audit it, and return the device.
        Raises EnrolmentRefused, WebAuthnRejected, InvalidInput."""

    def confirms(person: PersonId, device_id: object) -> bool:
        """Return whether ``device_id`` is still one of the person's devices."""

    def subscribe(person: PersonId, device_id: int, subscription: object, at: datetime) -> DeviceRecord:
        """Store the browser's ``PushSubscription.toJSON()`` on one of the person's devices, or
        remove it (None), and audit it. Raises NotFound, InvalidInput (a malformed subscription)."""

    def forget_subscription(device_id: int, subscription: dict[str, Any], status: int | None, at: datetime) -> None:
        """Remove the device's subscription if it is still ``subscription`` (its push service said
        ``status``, 404 or 410), and audit it."""


class IInvitationService(Interface):
    """Invitations to approve for a scope; a policy names only people who accepted one."""

    def invite(person: PersonId, scope: Scope, invitee: PersonId, at: datetime) -> InvitationRecord:
        """Invite ``invitee`` (told through the outbox), or return their invitation if there is one.
        Raises PermissionDenied (``person`` may not manage the scope), InvalidInput (oneself)."""

    def accept(person: PersonId, invitation_id: int, at: datetime) -> InvitationRecord:
        """Accept one of the person's invitations; accepting twice changes nothing. Raises NotFound."""

    def decline(person: PersonId, invitation_id: int, at: datetime) -> None:
        """Decline (delete) one of the person's invitations. Raises NotFound."""

    def pending_for(person: PersonId) -> list[InvitationRecord]:
        """Return the person's invitations they have not answered, oldest first."""

    def of_scope(scope: Scope) -> list[InvitationRecord]:
        """Return the scope's invitations, accepted or not, by person."""

    def accepted(scope: Scope) -> frozenset[PersonId]:
        """Return who has accepted an invitation for the scope."""


class IPolicyService(Interface):
    """Approval policies: the first one is set by an owner; every change is itself a request (I5)."""

    def current(scope: Scope) -> Policy | None:
        """Return the scope's current policy, or None."""

    def governing(project: ProjectName) -> Policy | None:
        """Return the policy that governs ``project`` (its own, else the longest prefix), or None."""

    def naming(person: PersonId) -> list[Policy]:
        """Return the policies in force that name ``person`` in one of their groups, by scope."""

    def versions(scope: Scope) -> list[PolicyRecord]:
        """Return every version of the scope's policy, newest first."""

    def pending(scope: Scope) -> list[ApprovalRequest]:
        """Return the scope's policy changes that await approval, oldest first."""

    def claim_default(project: ProjectName, by: PersonId, at: datetime) -> Policy | None:
        """Return the policy governing ``project``; without one, store and audit its default policy
        (a group "(Default)" of its owners in the host) and return that. None if it has no owner."""

    def apply(approved: ApprovalRequest, action: ApplyPolicy, at: datetime) -> None:
        """Put the policy change ``approved`` just approved in force and audit it, then withdraw the
        scope's other pending changes (they were proposed against the version it replaces). Raises
        InvalidTransition if another change was applied since it was proposed."""

    def check(person: PersonId, policy: Policy) -> Policy | None:
        """Return the policy in force that ``policy`` would replace (None for a first policy), having
        checked everything :meth:`propose` checks; stores nothing. Raises PermissionDenied, InvalidPolicy."""

    def propose(person: PersonId, policy: Policy, at: datetime) -> RequestId | None:
        """Apply the scope's first policy at once (returns None), or open a policy-change request
        approved under the current policy (returns its id). Raises PermissionDenied, InvalidPolicy
        (also when it names someone who is neither the proposer, nor a current member, nor has
        accepted an invitation for the scope)."""


class IApprovalService(Interface):
    """Release requests: opened by uploads, decided with WebAuthn, published or purged by the host."""

    def open_release(
        project: ProjectName,
        version: str,
        files: tuple[ReleaseFile, ...],
        uploader: PersonId,
        at: datetime,
        index: str | None = None,
    ) -> ApprovalRequest | None:
        """Open a request for an upload to a gated project, or add the files to the verifying
        request of the same version. A project without a policy gets its default one first
        (:meth:`IPolicyService.claim_default`); returns None only if the host names no owner.
        ``index`` names where the upload went on a host of many indexes (devpi's ``alice/dev``);
        the request keeps the index of the upload that opened it."""

    def get(request_id: RequestId) -> ApprovalRequest:
        """Return the request. Raises NotFound."""

    def begin_decision(request_id: RequestId, person: PersonId, verdict: Verdict, at: datetime) -> Ceremony:
        """Return the assertion ceremony whose challenge is bound to the request's manifest for this
        person and verdict. Raises NotFound, DecisionRefused (not eligible, no usable device)."""

    def decide(
        request_id: RequestId,
        person: PersonId,
        verdict: Verdict,
        ceremony: tuple[str, str],
        at: datetime,
        reason: str = "",
    ) -> ApprovalRequest:
        """Verify the assertion (ceremony id, credential JSON) against the manifest recomputed now,
        record the decision with its raw assertion and audit it, and carry out the outcome (publish,
        purge, notify). Raises WebAuthnRejected, ChallengeMismatch, DecisionRefused, NotFound."""

    def cancel(request_id: RequestId, person: PersonId, at: datetime) -> ApprovalRequest:
        """Withdraw a verifying request (its uploader or a project owner); purges its files."""

    def may_cancel(request: ApprovalRequest, person: PersonId) -> bool:
        """Return whether ``person`` may withdraw ``request``: its uploader, or an owner of its project."""

    def may_read(request: ApprovalRequest, person: PersonId) -> bool:
        """Return whether ``person`` may read ``request``'s status: its uploader, anyone eligible to
        decide on it, and the owners of its project (for a policy change: who manages its scope)."""

    def waiting_for(person: PersonId) -> list[ApprovalRequest]:
        """Return the verifying requests the person may still decide on, oldest first."""

    def reason(request_id: RequestId) -> str:
        """Return the reason given with the request's rejection or withdrawal ("" if none, or open)."""

    def ended_at(request_id: RequestId) -> datetime | None:
        """Return when the request ended, as the audit log records it (its files were published or
        deleted then, a policy change applied), or None while it is open."""

    def devices_used(request_id: RequestId) -> dict[PersonId, str | None]:
        """Return the name the device had when it signed each person's decision that counts (None for
        an early decision whose device was removed before names were recorded)."""

    def indexes(request_ids: Iterable[RequestId]) -> dict[RequestId, str]:
        """Return the index each request's upload went to, for those whose host named one."""

    def history(project: ProjectName) -> list[ApprovalRequest]:
        """Return the project's requests, newest first."""

    def unopened(project: ProjectName, version: str, person: PersonId) -> Unopened | None:
        """Return the version's held files that no request covers yet, if ``person`` uploaded one of
        them or owns the project; else None (nobody else learns that they exist)."""

    def waiting_for_policy(person: PersonId) -> list[Unopened]:
        """Return the releases ``person`` uploaded whose held files wait for a policy: no request can
        open until someone sets one for their project (or a prefix that covers it)."""

    def expire_overdue(at: datetime) -> int:
        """Expire every verifying request whose deadline has passed; returns how many."""
