"""Outputs of a request: what the adapter must now do, in order, in the same transaction.

The core performs none of these; it returns them from :meth:`ApprovalRequest.handle
<tpp_core.request.ApprovalRequest.handle>`, as h11's ``Connection.send`` returns bytes to write.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .identifiers import PersonId, ProjectName, RequestId
from .policy import Policy
from .subjects import Release, ReleaseFile

__all__ = ["Action", "ApplyPolicy", "Notify", "NotifyReason", "Publish", "Purge", "RecordAudit"]


class NotifyReason(enum.Enum):
    """Why people are told; the adapter picks the wording, the payload stays an id and a URL (I9)."""

    APPROVAL_NEEDED = "approval-needed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class Publish:
    """Make exactly these files of the release visible to installers."""

    request_id: RequestId
    release: Release


@dataclass(frozen=True, slots=True, kw_only=True)
class Purge:
    """Delete these quarantined files of ``project``; they must never become visible."""

    request_id: RequestId
    project: ProjectName
    files: tuple[ReleaseFile, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyPolicy:
    """Replace the policy of ``policy.scope`` with ``policy``, if it is still at ``replaces_version``."""

    request_id: RequestId
    policy: Policy
    replaces_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Notify:
    """Tell ``recipients`` (the adapter may add others, such as owners) about the request."""

    request_id: RequestId
    reason: NotifyReason
    recipients: frozenset[PersonId]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordAudit:
    """Append an entry to the audit chain; kinds read ``"tpp:subject:action"``."""

    at: datetime
    kind: str
    actor: PersonId | None
    subject: str
    data: Mapping[str, Any]


#: Any output a request returns.
Action = Publish | Purge | ApplyPolicy | Notify | RecordAudit


def __dir__() -> list[str]:
    return __all__
