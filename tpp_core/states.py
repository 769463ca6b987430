"""Request states and every transition between them.

Rules of this file: every transition lives in :data:`TRANSITIONS`; terminal states map to ``{}``; an
event missing from the table raises :class:`~tpp_core.errors.InvalidTransition` naming the state and the
event, and nothing else may set a state. Only ``APPROVED`` publishes, and nothing leaves it.

>>> next_state(RequestState.VERIFYING, Rejection)
<RequestState.REJECTED: 'rejected'>
>>> next_state(RequestState.REJECTED, Approval)
Traceback (most recent call last):
...
tpp_core.errors.InvalidTransition: a rejected request does not accept Approval
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from .errors import InvalidTransition
from .events import Approval, Cancellation, Event, Expiry, FilesAdded, QuorumReached, Rejection

__all__ = ["TERMINAL", "TRANSITIONS", "RequestState", "next_state"]


class RequestState(enum.Enum):
    """Where a request is. Files of a request in any state but ``APPROVED`` stay hidden."""

    VERIFYING = "verifying"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: state -> {event type -> next state}; the only place a state changes.
TRANSITIONS: Mapping[RequestState, Mapping[type[Event], RequestState]] = {
    RequestState.VERIFYING: {
        Approval: RequestState.VERIFYING,
        FilesAdded: RequestState.VERIFYING,
        QuorumReached: RequestState.APPROVED,
        Rejection: RequestState.REJECTED,
        Expiry: RequestState.EXPIRED,
        Cancellation: RequestState.CANCELLED,
    },
    RequestState.APPROVED: {},
    RequestState.REJECTED: {},
    RequestState.EXPIRED: {},
    RequestState.CANCELLED: {},
}

#: The states that accept no event: the outcomes.
TERMINAL = frozenset(state for state, moves in TRANSITIONS.items() if not moves)


def next_state(state: RequestState, event: type[Event]) -> RequestState:
    """The state after ``event`` in ``state``.

    :raises InvalidTransition: if the table has no such move.
    """
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise InvalidTransition(f"a {state.value} request does not accept {event.__name__}") from None


def __dir__() -> list[str]:
    return __all__
