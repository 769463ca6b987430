"""The one small error tree of TPP.

Every error TPP raises on purpose is a :class:`TPPError`, so a registry adapter can map the whole family
to a 4xx answer in one place. Errors caused by bad input also subclass :class:`ValueError`, as
``packaging.version.InvalidVersion`` does, so generic callers can treat them as what they are.
"""

from __future__ import annotations

__all__ = [
    "AuditChainBroken",
    "ChallengeMismatch",
    "DecisionRefused",
    "EnrolmentRefused",
    "InvalidInput",
    "InvalidPolicy",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "TPPError",
]


class TPPError(Exception):
    """Raised for every failure TPP anticipates; the base of all the others."""


class InvalidInput(TPPError, ValueError):
    """Raised when a value (a name, a digest, a time, a file list) is malformed."""


class InvalidPolicy(InvalidInput):
    """Raised when a policy is malformed or could never be satisfied (a lockout)."""


class InvalidTransition(TPPError):
    """Raised when an event is not allowed in the request's current state; the state is unchanged."""


class DecisionRefused(TPPError):
    """Raised when a person may not decide on a request now: not eligible, already decided, or too late."""


class ChallengeMismatch(TPPError):
    """Raised when a WebAuthn challenge is not bound to the manifest being decided on."""


class NotFound(TPPError, LookupError):
    """Raised when a request, device, policy or challenge named by an id does not exist."""


class PermissionDenied(TPPError):
    """Raised when a person may not do what they asked, e.g. change a policy they do not own."""


class EnrolmentRefused(TPPError):
    """Raised when a device may not be enrolled, e.g. a second device without a voucher."""


class AuditChainBroken(TPPError):
    """Raised when an audit chain was edited, truncated, reordered or had entries removed."""


def __dir__() -> list[str]:
    return __all__
