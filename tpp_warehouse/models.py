"""TPP's tables. People are the host's user names (strings): TPP never owns accounts.

Every table is prefixed ``tpp_`` so it can live in the host's database without clashing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Model

__all__ = [
    "AuditRecord",
    "ChallengeRecord",
    "DecisionRecord",
    "DeviceRecord",
    "HeldFileRecord",
    "HeldReleaseRecord",
    "InvitationRecord",
    "NotificationRecord",
    "PolicyRecord",
    "RecoveryRecord",
    "RequestFileRecord",
    "RequestRecord",
]

_PERSON = 100  # the core's person id limit
_NAME = 255  # file names, project names, scopes


class DeviceRecord(Model):
    """A WebAuthn credential a person approves with. Removing one deletes the row: immediate."""

    __tablename__ = "tpp_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(_PERSON), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # Unique across people: one authenticator cannot be enrolled twice (tpp_core.devices).
    credential_id: Mapped[bytes] = mapped_column(unique=True)
    public_key: Mapped[bytes]  # COSE, as verified at registration
    sign_count: Mapped[int]
    enrolled_at: Mapped[datetime]
    enrolment: Mapped[str] = mapped_column(String(16))  # tpp_core.Enrolment value: who was told
    # The browser's PushSubscription.toJSON(), once the device allows notifications.
    push_subscription: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("person", "name"),)


class RecoveryRecord(Model):
    """A recovery voucher: someone else vouched that ``person``, who had devices and lost them all,
    may enrol a new one (invariant I6). Used once, within its lifetime; kept as the record of who vouched."""

    __tablename__ = "tpp_recoveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(_PERSON), index=True)
    granted_by: Mapped[str] = mapped_column(String(_PERSON))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Set when the new device is enrolled with it; a used voucher vouches for nothing more.
    used_at: Mapped[datetime | None]


class PolicyRecord(Model):
    """One version of a scope's policy. Rows are never updated: a change adds the next version."""

    __tablename__ = "tpp_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str] = mapped_column(String(_NAME))
    version: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)  # tpp_core.Policy.to_dict()
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(_PERSON))
    # The request that approved this version; None for the first version of a scope (the bootstrap).
    approved_by_request: Mapped[str | None] = mapped_column(String(_PERSON))

    __table_args__ = (UniqueConstraint("scope_kind", "scope_value", "version"),)


class InvitationRecord(Model):
    """An invitation to approve for a scope. Invitees count in a policy only once they have accepted."""

    __tablename__ = "tpp_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str] = mapped_column(String(_NAME))
    person: Mapped[str] = mapped_column(String(_PERSON), index=True)
    invited_by: Mapped[str] = mapped_column(String(_PERSON))
    invited_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("scope_kind", "scope_value", "person"),)


class RequestRecord(Model):
    """An approval request: a release awaiting approval, or a proposed policy change."""

    __tablename__ = "tpp_requests"

    id: Mapped[str] = mapped_column(String(_PERSON), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "release" or "policy-change"
    registry_name: Mapped[str] = mapped_column(String(200))
    project: Mapped[str | None] = mapped_column(String(_NAME))
    version: Mapped[str | None] = mapped_column(String(128))
    proposed: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the proposed policy, for a policy change
    uploader: Mapped[str] = mapped_column(String(_PERSON))
    # Where the upload that opened a release request went, on a host of many indexes (devpi's
    # "alice/dev"); None on a host of one index, and for a policy change. A fact of that upload, so
    # it is kept rather than looked up again (the index may be renamed or deleted since).
    index_name: Mapped[str | None] = mapped_column(String(_NAME))
    # The pinned policy (I5): the request is decided under this version whatever happens later.
    policy_id: Mapped[int] = mapped_column(ForeignKey("tpp_policies.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)

    policy: Mapped[PolicyRecord] = relationship()
    files: Mapped[list[RequestFileRecord]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestFileRecord.id"
    )
    decisions: Mapped[list[DecisionRecord]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="DecisionRecord.id"
    )

    __table_args__ = (Index("ix_tpp_requests_project_version", "project", "version"),)


class RequestFileRecord(Model):
    """A file of a release request, identified by name and sha256 (I1: only these bytes may publish)."""

    __tablename__ = "tpp_request_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("tpp_requests.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(_NAME))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]

    request: Mapped[RequestRecord] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("request_id", "filename"),)


class DecisionRecord(Model):
    """A verified approval or rejection, with the raw assertion so anyone can re-verify it (I2)."""

    __tablename__ = "tpp_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("tpp_requests.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(_PERSON))
    verdict: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    # Kept even after removal of the device: the approval stays checkable.
    credential_id: Mapped[bytes]
    public_key: Mapped[bytes]
    # The device's name when it signed: a later rename or removal does not rewrite history. None only
    # for a decision recorded before names were kept whose device was removed before that (0005).
    device_name: Mapped[str | None] = mapped_column(String(64))
    manifest: Mapped[bytes]  # the exact bytes whose sha256 ends the challenge
    challenge: Mapped[bytes]
    client_data_json: Mapped[bytes]
    authenticator_data: Mapped[bytes]
    signature: Mapped[bytes]
    # Approvals given before more files arrived no longer count, but stay on record.
    withdrawn: Mapped[bool] = mapped_column(default=False)

    request: Mapped[RequestRecord] = relationship(back_populates="decisions")


class ChallengeRecord(Model):
    """A server-generated WebAuthn challenge nonce: single-use (deleted when used) and expiring."""

    __tablename__ = "tpp_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[bytes]
    purpose: Mapped[str] = mapped_column(String(16))  # "approve", "reject", "register", "vouch"
    person: Mapped[str] = mapped_column(String(_PERSON))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("tpp_requests.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditRecord(Model):
    """One link of the hash-chained audit log (tpp_core.audit), written in the changing transaction."""

    __tablename__ = "tpp_audit"

    # The sequence number is the primary key: two transactions appending at once collide on it,
    # and one of them fails instead of forking the chain.
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(_PERSON))
    subject: Mapped[str] = mapped_column(String(_NAME), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    # "Did this person ever have a device?" is asked of the log at every enrolment (tpp_core.devices).
    __table_args__ = (Index("ix_tpp_audit_actor_kind", "actor", "kind"),)


class NotificationRecord(Model):
    """An outbox row: someone must be told something. Senders deliver after commit (Web Push)."""

    __tablename__ = "tpp_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(_PERSON), index=True)
    subject: Mapped[str] = mapped_column(String(_NAME))  # "request:<id>" or "device:<id>", as in the audit log
    reason: Mapped[str] = mapped_column(String(32))  # a NotifyReason value, or "device-enrolled"
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)


class HeldFileRecord(Model):
    """A file of a Warehouse-shaped host that installers must not see: written by the host's own
    File insert (same transaction), so no file of a gated project is ever visible without one.

    ``state``: ``held`` (awaiting approval), ``publishing`` (approved; bytes being promoted; the row
    goes once they are), ``purging`` / ``purged`` (rejected, expired or withdrawn: hidden for good).
    """

    __tablename__ = "tpp_held_files"

    # The host's file names are unique forever (Warehouse's file_registry), and installers find
    # files by them: the hiding criteria compare this column with the host's.
    filename: Mapped[str] = mapped_column(String(_NAME), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    path: Mapped[str] = mapped_column(String(1024))  # where the host's storage keeps the bytes
    project: Mapped[str] = mapped_column(String(_NAME))
    version: Mapped[str] = mapped_column(String(128))
    uploader: Mapped[str] = mapped_column(String(_PERSON))
    held_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), index=True)
    request_id: Mapped[str | None] = mapped_column(String(_PERSON))  # None until the request opened

    __table_args__ = (Index("ix_tpp_held_files_project_version", "project", "version"),)


class HeldReleaseRecord(Model):
    """A release of a Warehouse-shaped host created by a gated upload: hidden until published."""

    __tablename__ = "tpp_held_releases"

    project: Mapped[str] = mapped_column(String(_NAME), primary_key=True)  # the host's normalized name
    version: Mapped[str] = mapped_column(String(128), primary_key=True)  # as the host stores it
    held_at: Mapped[datetime]
