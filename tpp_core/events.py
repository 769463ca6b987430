"""Inputs to a request: what happened, who did it, and when.

Events are small frozen values checked when built, so an invalid event cannot exist. Each carries its
``at`` time (timezone-aware): the core never reads a clock.

>>> from datetime import datetime, timezone
>>> Expiry(at=datetime(2026, 1, 1))
Traceback (most recent call last):
...
tpp_core.errors.InvalidInput: Expiry.at must be a timezone-aware datetime, got datetime.datetime(2026, 1, 1, 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidInput
from .identifiers import PersonId, person_id
from .subjects import ReleaseFile

__all__ = ["Approval", "Cancellation", "Event", "Expiry", "FilesAdded", "QuorumReached", "Rejection"]

# Free-text reasons end up in notifications and the audit log; keep them bounded.
_REASON_LIMIT = 500


def _check_at(event: object, at: object) -> None:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise InvalidInput(f"{type(event).__name__}.at must be a timezone-aware datetime, got {at!r}")


def _check_challenge(challenge: object) -> None:
    if not isinstance(challenge, bytes):
        raise InvalidInput(f"a challenge must be bytes, got {type(challenge).__name__}")


def _check_reason(reason: object) -> None:
    if not isinstance(reason, str) or len(reason) > _REASON_LIMIT:
        raise InvalidInput(f"a reason must be text of at most {_REASON_LIMIT} characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """``person`` approved, with a WebAuthn assertion over ``challenge`` that the adapter verified."""

    at: datetime
    person: PersonId
    challenge: bytes

    def __post_init__(self) -> None:
        _check_at(self, self.at)
        person_id(self.person)
        _check_challenge(self.challenge)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """``person`` rejected, with a verified WebAuthn assertion over ``challenge``."""

    at: datetime
    person: PersonId
    challenge: bytes
    reason: str = ""

    def __post_init__(self) -> None:
        _check_at(self, self.at)
        person_id(self.person)
        _check_challenge(self.challenge)
        _check_reason(self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class FilesAdded:
    """More files of the same release arrived (twine uploads each file in its own request)."""

    at: datetime
    files: tuple[ReleaseFile, ...]

    def __post_init__(self) -> None:
        _check_at(self, self.at)
        if not isinstance(self.files, tuple) or not self.files:
            raise InvalidInput("FilesAdded needs at least one file")
        if not all(isinstance(f, ReleaseFile) for f in self.files):
            raise InvalidInput("FilesAdded takes ReleaseFile values only")


@dataclass(frozen=True, slots=True, kw_only=True)
class Expiry:
    """The adapter's scheduler noticed that the request's deadline passed."""

    at: datetime

    def __post_init__(self) -> None:
        _check_at(self, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """``person`` withdrew the request; the adapter decides who may (the uploader, an owner)."""

    at: datetime
    person: PersonId
    reason: str = ""

    def __post_init__(self) -> None:
        _check_at(self, self.at)
        person_id(self.person)
        _check_reason(self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuorumReached:
    """Raised by the request itself when an approval completes the quorum; adapters never send it."""

    at: datetime

    def __post_init__(self) -> None:
        _check_at(self, self.at)


#: Any input a request accepts.
Event = Approval | Rejection | FilesAdded | Expiry | Cancellation | QuorumReached


def __dir__() -> list[str]:
    return __all__
