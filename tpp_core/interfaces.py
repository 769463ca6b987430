"""The ports adapters implement so that a registry can drive :class:`~tpp_core.request.ApprovalRequest`.

They hold no code: a Pyramid service or a devpi keyfs wrapper implements each one, and a test can
replace any of them. Each runs inside the adapter's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from zope.interface import Interface

from .actions import ApplyPolicy, Notify, Publish, Purge, RecordAudit
from .audit import AuditEntry
from .identifiers import PersonId, RequestId
from .policy import Policy
from .request import ApprovalRequest

__all__ = ["IAuditLog", "IClock", "INotifier", "IPolicyStore", "IRegistryHost", "IRequestStore"]


class IRequestStore(Interface):
    """Where requests live between events."""

    def get(request_id: RequestId) -> ApprovalRequest:
        """Return the stored request. Raises :class:`~tpp_core.errors.NotFound` if there is none."""

    def save(request: ApprovalRequest) -> None:
        """Store the request's current state, creating it if new. Returns nothing."""

    def overdue(at: datetime) -> Iterable[ApprovalRequest]:
        """Return the verifying requests whose deadline is at or before ``at``."""


class IRegistryHost(Interface):
    """The registry whose files the requests govern."""

    def publish(action: Publish) -> None:
        """Make exactly the action's files visible to installers. Raises on failure."""

    def purge(action: Purge) -> None:
        """Delete the action's quarantined files. Raises on failure."""


class IPolicyStore(Interface):
    """Where the versions of each scope's policy live."""

    def policies() -> Iterable[Policy]:
        """Return the current version of every scope's policy (for :func:`select_policy`)."""

    def apply(action: ApplyPolicy, at: datetime, by: PersonId) -> None:
        """Store the action's policy as the scope's current one, approved at ``at``, proposed by ``by``.

        Raises :class:`~tpp_core.errors.InvalidTransition` if the scope is no longer at
        ``action.replaces_version`` (another change won the race).
        """


class INotifier(Interface):
    """Tells people about a request or anything else, after the transaction commits."""

    def notify(action: Notify, at: datetime) -> None:
        """Queue notifications for the action's recipients, written at ``at``. Returns nothing; never
        raises for delivery errors."""

    def tell(people: Iterable[PersonId], subject: str, reason: str, at: datetime) -> None:
        """Queue one notification about ``subject`` (e.g. ``"device:7"``) for each person, once each."""


class IAuditLog(Interface):
    """The hash-chained audit log."""

    def record(action: RecordAudit) -> AuditEntry:
        """Append the entry after the current head in the same transaction; returns it."""

    def entries(subject: str | None = None) -> Iterator[AuditEntry]:
        """Return the chain in order, or only its entries about ``subject`` (e.g. ``"request:r1"``)."""


class IClock(Interface):
    """The time; the core never reads a clock, adapters pass this one's answer in."""

    def now() -> datetime:
        """Return the current time, timezone-aware."""
