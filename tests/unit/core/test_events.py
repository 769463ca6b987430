"""Events are checked when built: an event with a naive time, a bad person or a huge reason cannot exist."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import pytest

from tpp_core import events
from tpp_core.errors import InvalidInput
from tpp_core.events import Approval, Cancellation, Event, Expiry, FilesAdded, QuorumReached, Rejection
from tpp_core.subjects import ReleaseFile

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WHEEL = ReleaseFile(filename="acme-1.0-py3-none-any.whl", sha256="cd" * 32, size=7)
CHALLENGE = bytes(64)

# The smallest valid arguments of each event type; tests change one field at a time.
VALID: dict[type[Event], dict[str, Any]] = {
    Approval: {"at": T0, "person": "ann", "challenge": CHALLENGE},
    Rejection: {"at": T0, "person": "ann", "challenge": CHALLENGE, "reason": "wrong files"},
    FilesAdded: {"at": T0, "files": (WHEEL,)},
    Expiry: {"at": T0},
    Cancellation: {"at": T0, "person": "ann", "reason": "withdrawn"},
    QuorumReached: {"at": T0},
}
EVENT_TYPES = list(VALID)
WITH_PERSON = [Approval, Rejection, Cancellation]
WITH_REASON = [Rejection, Cancellation]


class NoOffset(tzinfo):
    """A tzinfo that does not know its offset: such a datetime is naive despite having a tzinfo."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


def build(kind: type[Event], **changes: Any) -> Event:
    event: Event = kind(**(VALID[kind] | changes))
    return event


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
def test_valid_events_keep_their_fields(kind: type[Event]) -> None:
    event = build(kind)
    assert {f.name: getattr(event, f.name) for f in dataclasses.fields(event)} == VALID[kind]


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
def test_events_are_frozen(kind: type[Event]) -> None:
    """A checked event cannot be edited into an unchecked one."""
    event = build(kind)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.at = datetime(2026, 1, 1)  # type: ignore[misc]


@pytest.mark.parametrize(
    "at",
    [
        T0,
        datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-12))),
    ],
)
@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
def test_events_accept_any_aware_time(kind: type[Event], at: datetime) -> None:
    assert build(kind, at=at).at == at


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(datetime(2026, 1, 1), id="naive"),
        pytest.param(datetime(2026, 1, 1, tzinfo=NoOffset()), id="tzinfo-without-offset"),
        pytest.param(date(2026, 1, 1), id="date"),
        pytest.param("2026-01-01T00:00:00+00:00", id="iso-string"),
        pytest.param(1767225600, id="timestamp"),
        pytest.param(None, id="none"),
    ],
)
@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
def test_events_refuse_times_that_are_not_aware_datetimes(kind: type[Event], at: object) -> None:
    message = f"{kind.__name__}.at must be a timezone-aware datetime, got {at!r}"
    with pytest.raises(InvalidInput, match=f"^{re.escape(message)}$"):
        build(kind, at=at)


@pytest.mark.parametrize(
    "person",
    [
        pytest.param("", id="empty"),
        pytest.param("ann bob", id="space"),
        pytest.param("ann\n", id="newline"),
        pytest.param("../ann", id="path"),
        pytest.param(None, id="none"),
        pytest.param(7, id="int"),
    ],
)
@pytest.mark.parametrize("kind", WITH_PERSON, ids=lambda k: k.__name__)
def test_events_refuse_bad_person_ids(kind: type[Event], person: object) -> None:
    with pytest.raises(InvalidInput, match=f"invalid person id: {re.escape(repr(person))}$"):
        build(kind, person=person)


@pytest.mark.parametrize("reason", ["", "x" * 500, "line one\nline two", "\u00e9chec"])
@pytest.mark.parametrize("kind", WITH_REASON, ids=lambda k: k.__name__)
def test_events_accept_reasons_up_to_the_limit(kind: type[Event], reason: str) -> None:
    assert build(kind, reason=reason).reason == reason  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("x" * 501, id="one-too-long"),
        pytest.param("x" * 1_000_000, id="huge"),
        pytest.param(None, id="none"),
        pytest.param(b"wrong files", id="bytes"),
        pytest.param(42, id="int"),
    ],
)
@pytest.mark.parametrize("kind", WITH_REASON, ids=lambda k: k.__name__)
def test_events_refuse_reasons(kind: type[Event], reason: object) -> None:
    with pytest.raises(InvalidInput, match="a reason must be text of at most 500 characters"):
        build(kind, reason=reason)


@pytest.mark.parametrize("kind", WITH_REASON, ids=lambda k: k.__name__)
def test_reason_defaults_to_empty(kind: type[Event]) -> None:
    arguments = dict(VALID[kind])
    del arguments["reason"]
    assert kind(**arguments).reason == ""  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "files",
    [
        pytest.param((), id="empty"),
        pytest.param([WHEEL], id="list-not-tuple"),
        pytest.param(None, id="none"),
        pytest.param(WHEEL, id="bare-file"),
    ],
)
def test_files_added_needs_a_tuple_of_files(files: object) -> None:
    with pytest.raises(InvalidInput, match="FilesAdded needs at least one file"):
        build(FilesAdded, files=files)


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(("acme-1.0.tar.gz",), id="name-instead-of-file"),
        pytest.param((WHEEL, None), id="none-among-files"),
    ],
)
def test_files_added_refuses_items_that_are_not_release_files(files: tuple[object, ...]) -> None:
    """The module promises that an invalid event cannot exist; a file list of strings would be one."""
    with pytest.raises(InvalidInput, match="FilesAdded takes ReleaseFile values only"):
        build(FilesAdded, files=files)


def test_public_names() -> None:
    assert dir(events) == ["Approval", "Cancellation", "Event", "Expiry", "FilesAdded", "QuorumReached", "Rejection"]


@pytest.mark.parametrize(
    "challenge",
    [
        pytest.param(None, id="none"),
        pytest.param("00" * 32, id="hex-string"),
    ],
)
@pytest.mark.parametrize("kind", [Approval, Rejection], ids=lambda k: k.__name__)
def test_decisions_refuse_challenges_that_are_not_bytes(kind: type[Event], challenge: object) -> None:
    """Such an event would pass construction, then fail with a TypeError (not a TPPError) in the request."""
    with pytest.raises(InvalidInput, match="challenge"):
        build(kind, challenge=challenge)
