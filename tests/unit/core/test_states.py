"""The state table itself: complete, closed, and terminal states final."""

from __future__ import annotations

import typing

import pytest

from tpp_core import TERMINAL, TRANSITIONS, Event, InvalidTransition, RequestState, next_state

EVENT_TYPES = typing.get_args(Event)


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(RequestState)


def test_terminal_states_are_exactly_the_outcomes() -> None:
    assert {RequestState.APPROVED, RequestState.REJECTED, RequestState.EXPIRED, RequestState.CANCELLED} == TERMINAL


def test_only_the_quorum_leads_to_approved() -> None:
    into_approved = [(s, e) for s, row in TRANSITIONS.items() for e, t in row.items() if t is RequestState.APPROVED]
    assert [e.__name__ for _, e in into_approved] == ["QuorumReached"]


@pytest.mark.parametrize("state", sorted(TERMINAL, key=lambda s: s.value))
@pytest.mark.parametrize("event", EVENT_TYPES, ids=lambda e: e.__name__)
def test_terminal_states_accept_nothing(state: RequestState, event: type[Event]) -> None:
    with pytest.raises(InvalidTransition, match=f"a {state.value} request does not accept {event.__name__}"):
        next_state(state, event)


@pytest.mark.parametrize("event", EVENT_TYPES, ids=lambda e: e.__name__)
def test_verifying_accepts_every_event(event: type[Event]) -> None:
    assert next_state(RequestState.VERIFYING, event) in RequestState
