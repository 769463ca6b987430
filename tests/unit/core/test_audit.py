"""The hash-chained audit log (invariant I8): any edit, deletion or reordering is detected."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpp_core import audit
from tpp_core.audit import GENESIS, AuditEntry, link, verify_chain
from tpp_core.errors import AuditChainBroken, InvalidInput

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KIND = "tpp:request:approval"
SUBJECT = "request:r1"

Chain = list[AuditEntry]


def make_chain(length: int) -> Chain:
    chain: Chain = []
    for number in range(length):
        previous = chain[-1] if chain else None
        at = T0 + timedelta(minutes=number)
        chain.append(link(previous, at=at, kind=KIND, actor=f"p{number}", subject=SUBJECT, data={"n": number}))
    return chain


def test_entry_hash_covers_a_canonical_json_body() -> None:
    """Pins the hashed form: chains stored by one release must still verify after an upgrade."""
    entry = link(
        None, at=T0, kind="tpp:request:opened", actor="ci", subject="request:r1", data={"b": [1, "\u00e9"], "a": None}
    )
    canonical = (
        b'{"actor":"ci","at":"2026-01-01T00:00:00+00:00","data":{"a":null,"b":[1,"\\u00e9"]},'
        b'"kind":"tpp:request:opened","prev":"' + b"0" * 64 + b'","seq":1,"subject":"request:r1"}'
    )
    assert entry.hash == hashlib.sha256(canonical).hexdigest()


def test_link_builds_a_chain() -> None:
    first = link(None, at=T0, kind="tpp:request:opened", actor=None, subject=SUBJECT, data={})
    second = link(first, at=T0, kind=KIND, actor="ann", subject=SUBJECT, data={"verdict": "approve"})
    assert (first.seq, first.prev, first.actor) == (1, GENESIS, None)
    assert (second.seq, second.prev, second.actor, second.data) == (2, first.hash, "ann", {"verdict": "approve"})
    assert re.fullmatch(r"[0-9a-f]{64}", second.hash)
    assert first.hash != second.hash
    assert verify_chain([first, second]) == 2
    assert verify_chain(iter([first, second]), head=second.hash) == 2


def test_equal_fields_at_another_position_hash_differently() -> None:
    """Two identical events still get distinct hashes, so one cannot stand in for the other."""
    chain = [link(None, at=T0, kind=KIND, actor="ann", subject=SUBJECT, data={})]
    chain.append(link(chain[0], at=T0, kind=KIND, actor="ann", subject=SUBJECT, data={}))
    assert chain[0].hash != chain[1].hash


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"kind": "request:opened"}, "audit kind must read", id="kind-two-parts"),
        pytest.param({"kind": "tpp:request:opened:now"}, "audit kind must read", id="kind-four-parts"),
        pytest.param({"kind": "TPP:request:opened"}, "audit kind must read", id="kind-uppercase"),
        pytest.param({"kind": "tpp:request:opened\n"}, "audit kind must read", id="kind-newline"),
        pytest.param({"kind": "tpp::opened"}, "audit kind must read", id="kind-empty-part"),
        pytest.param({"kind": "tpp:request_x:opened"}, "audit kind must read", id="kind-underscore"),
        pytest.param({"kind": ""}, "audit kind must read", id="kind-empty"),
        pytest.param({"kind": None}, "audit kind must read 'source:subject:action', got None", id="kind-none"),
        pytest.param({"at": datetime(2026, 1, 1)}, "audit times must be timezone-aware", id="at-naive"),
        pytest.param(
            {"at": "2026-01-01T00:00:00+00:00"},
            "audit times must be timezone-aware datetimes, got '2026-01-01T00:00:00+00:00'",
            id="at-string",
        ),
        pytest.param({"at": date(2026, 1, 1)}, "audit times must be timezone-aware", id="at-date"),
        pytest.param({"actor": ""}, "invalid person id: ''", id="actor-empty"),
        pytest.param({"actor": "ann bob"}, "invalid person id", id="actor-space"),
        pytest.param({"actor": "ann\n"}, "invalid person id", id="actor-newline"),
        pytest.param({"actor": 7}, "invalid person id: 7", id="actor-int"),
        pytest.param({"data": {"x": object()}}, "audit data for tpp:request:approval is not JSON", id="data-object"),
        pytest.param({"data": {"x": {1, 2}}}, "is not JSON-serializable", id="data-set"),
        pytest.param({"data": {"x": b"raw"}}, "is not JSON-serializable", id="data-bytes"),
        pytest.param({"data": {1: "a", "b": 2}}, "is not JSON-serializable", id="data-mixed-keys"),
        pytest.param({"data": {"x": float("nan")}}, "is not JSON-serializable", id="data-nan"),
        pytest.param({"data": {"x": float("inf")}}, "is not JSON-serializable", id="data-infinity"),
    ],
)
def test_link_refuses_invalid_input(changes: dict[str, Any], message: str) -> None:
    arguments = {"at": T0, "kind": KIND, "actor": "ann", "subject": SUBJECT, "data": {}} | changes
    with pytest.raises(InvalidInput, match=re.escape(message)):
        link(None, **arguments)


def test_link_refuses_circular_data() -> None:
    data: dict[str, Any] = {}
    data["self"] = data
    with pytest.raises(InvalidInput, match="is not JSON-serializable"):
        link(None, at=T0, kind=KIND, actor=None, subject=SUBJECT, data=data)


def test_empty_chain() -> None:
    assert verify_chain([]) == 0
    assert verify_chain([], head=GENESIS) == 0
    with pytest.raises(AuditChainBroken, match="the chain ends at entry 0, not at the expected head"):
        verify_chain([], head="ab" * 32)


def _edit(index: int, **changes: Any) -> Callable[[Chain], Chain]:
    def tamper(chain: Chain) -> Chain:
        edited = list(chain)
        edited[index] = dataclasses.replace(edited[index], **changes)
        return edited

    return tamper


def _relink_middle(chain: Chain) -> Chain:
    """The attacker edits entry 2 and recomputes its hash; entry 3 still names the old one."""
    forged = link(chain[0], at=chain[1].at, kind=KIND, actor="mallory", subject=SUBJECT, data={"n": 1})
    return [chain[0], forged, chain[2]]


def _relink_and_repoint(chain: Chain) -> Chain:
    """As above, and entry 3 is pointed at the forgery: its own hash covers the old pointer."""
    forged = _relink_middle(chain)
    return [*forged[:2], dataclasses.replace(forged[2], prev=forged[1].hash)]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(lambda c: c[1:], "audit entry 2 stands where entry 1 should", id="delete-first"),
        pytest.param(lambda c: [c[0], c[2]], "audit entry 3 stands where entry 2 should", id="delete-middle"),
        pytest.param(lambda c: [c[1], c[0], c[2]], "audit entry 2 stands where entry 1 should", id="swap"),
        pytest.param(lambda c: [c[0], c[0], c[1], c[2]], "audit entry 1 stands where entry 2 should", id="duplicate"),
        pytest.param(lambda c: [*c, c[2]], "audit entry 3 stands where entry 4 should", id="replay-last"),
        pytest.param(_edit(1, seq=3), "audit entry 3 stands where entry 2 should", id="seq"),
        pytest.param(
            lambda c: [c[0], dataclasses.replace(c[2], seq=2)], "audit entry 2 does not follow entry 1", id="renumber"
        ),
        pytest.param(_edit(1, prev=GENESIS), "audit entry 2 does not follow entry 1", id="prev"),
        pytest.param(_relink_middle, "audit entry 3 does not follow entry 2", id="edit-and-rehash"),
        pytest.param(_relink_and_repoint, "audit entry 3 was altered", id="edit-rehash-and-repoint"),
        pytest.param(_edit(1, kind="tpp:request:rejection"), "audit entry 2 was altered", id="kind"),
        pytest.param(_edit(1, actor="mallory"), "audit entry 2 was altered", id="actor"),
        pytest.param(_edit(1, actor=None), "audit entry 2 was altered", id="actor-removed"),
        pytest.param(_edit(1, subject="request:r2"), "audit entry 2 was altered", id="subject"),
        pytest.param(_edit(1, data={"n": 2}), "audit entry 2 was altered", id="data"),
        pytest.param(_edit(1, data={"n": 1.0}), "audit entry 2 was altered", id="data-int-to-float"),
        pytest.param(_edit(1, data={"n": 1, "extra": True}), "audit entry 2 was altered", id="data-key-added"),
        pytest.param(_edit(1, data={"n": {1}}), "audit entry 2 was altered", id="data-not-json"),
        pytest.param(_edit(1, at=T0 + timedelta(minutes=2)), "audit entry 2 was altered", id="at"),
        pytest.param(_edit(1, at=datetime(2026, 1, 1, 0, 1)), "audit entry 2 was altered", id="at-naive"),
        pytest.param(
            _edit(1, at=datetime(2026, 1, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))),
            "audit entry 2 was altered",
            id="at-same-instant-other-zone",
        ),
        pytest.param(_edit(1, at="2026-01-01T00:01:00+00:00"), "audit entry 2 was altered", id="at-as-iso-string"),
        pytest.param(_edit(1, hash="0" * 64), "audit entry 2 was altered", id="hash"),
        pytest.param(_edit(2, hash="0" * 64), "audit entry 3 was altered", id="hash-of-last"),
    ],
)
def test_tampering_is_detected(tamper: Callable[[Chain], Chain], message: str) -> None:
    with pytest.raises(AuditChainBroken, match=f"^{message}$"):
        verify_chain(tamper(make_chain(3)))


def test_rewritten_tail_is_caught_by_the_head() -> None:
    """Whoever rewrites every entry after an edit makes a valid chain; only the anchored head tells."""
    chain = make_chain(3)
    forged = _relink_middle(chain)[:2]
    forged.append(link(forged[1], at=chain[2].at, kind=KIND, actor="p2", subject=SUBJECT, data={"n": 2}))
    assert verify_chain(forged) == 3
    with pytest.raises(AuditChainBroken, match="the chain ends at entry 3, not at the expected head"):
        verify_chain(forged, head=chain[-1].hash)


# Hypothesis strategies: chains of 1-20 entries with arbitrary JSON data. Each kind of tampering has
# its own property, so that hypothesis spends its examples evenly on all of them.

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)
json_data = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)
any_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.none() | offsets)
kinds = st.sampled_from(["tpp:request:opened", "tpp:request:approval", "tpp:policy:changed", "tpp:device:enrolled"])
people = st.sampled_from(["ann", "bob", "cy.z", "ci-bot@example.org"])
hex_digits = "0123456789abcdef"


@st.composite
def chains(draw: st.DrawFn, min_size: int = 1) -> Chain:
    specs = draw(
        st.lists(
            st.tuples(aware_times, kinds, st.none() | people, st.text(max_size=20), json_data),
            min_size=min_size,
            max_size=20,
        )
    )
    chain: Chain = []
    for at, kind, actor, subject, data in specs:
        chain.append(link(chain[-1] if chain else None, at=at, kind=kind, actor=actor, subject=subject, data=data))
    return chain


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _edited_value(data: st.DataObject, field: str, old: Any) -> Any:
    """A value for ``field`` that differs from ``old`` in what gets hashed."""
    if field in ("hash", "prev"):
        position = data.draw(st.integers(0, 63), label="position")
        digit = data.draw(st.sampled_from(hex_digits).filter(lambda d: d != old[position]), label="digit")
        return old[:position] + digit + old[position + 1 :]
    if field == "seq":
        return data.draw(st.integers(0, 25).filter(lambda s: s != old), label="seq")
    if field == "at":
        return data.draw(any_times.filter(lambda t: t.isoformat() != old.isoformat()), label="at")
    if field == "data":
        fresh = st.dictionaries(st.text(max_size=8), json_values, min_size=0 if old else 1, max_size=3)
        return data.draw(fresh.filter(lambda d: _canonical(d) != _canonical(old)), label="data")
    if field == "actor":
        actors = st.text(max_size=12) if old is None else st.none() | st.text(max_size=12).filter(lambda a: a != old)
        return data.draw(actors, label="actor")
    return data.draw(st.text(max_size=24).filter(lambda s: s != old), label=field)  # kind, subject


@pytest.mark.property
@settings(deadline=None)
@given(chain=chains())
def test_any_chain_verifies(chain: Chain) -> None:
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert [e.prev for e in chain] == [GENESIS] + [e.hash for e in chain[:-1]]
    assert verify_chain(chain) == len(chain)
    assert verify_chain(chain, head=chain[-1].hash) == len(chain)


BROKEN = r"^audit entry \d+ (stands where entry \d+ should|does not follow entry \d+|was altered)$"


@pytest.mark.property
@pytest.mark.parametrize("field", ["seq", "at", "kind", "actor", "subject", "data", "prev", "hash"])
@settings(deadline=None)
@given(chain=chains(), data=st.data())
def test_editing_any_field_of_any_entry_breaks_the_chain(field: str, chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1), label="index")
    edited = dataclasses.replace(chain[index], **{field: _edited_value(data, field, getattr(chain[index], field))})
    chain[index] = edited
    with pytest.raises(AuditChainBroken, match=BROKEN):
        verify_chain(chain)


@pytest.mark.property
@settings(deadline=None)
@given(chain=chains(min_size=2), data=st.data())
def test_deleting_any_entry_but_the_last_breaks_the_chain(chain: Chain, data: st.DataObject) -> None:
    del chain[data.draw(st.integers(0, len(chain) - 2), label="index")]
    with pytest.raises(AuditChainBroken, match=BROKEN):
        verify_chain(chain)


@pytest.mark.property
@settings(deadline=None)
@given(chain=chains(min_size=2), data=st.data())
def test_swapping_any_two_entries_breaks_the_chain(chain: Chain, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, len(chain) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(chain) - 1), label="second")
    chain[first], chain[second] = chain[second], chain[first]
    with pytest.raises(AuditChainBroken, match=BROKEN):
        verify_chain(chain)


@pytest.mark.property
@settings(deadline=None)
@given(chain=chains(), data=st.data())
def test_duplicating_any_entry_anywhere_breaks_the_chain(chain: Chain, data: st.DataObject) -> None:
    entry = data.draw(st.sampled_from(chain), label="entry")
    chain.insert(data.draw(st.integers(0, len(chain)), label="position"), entry)
    with pytest.raises(AuditChainBroken, match=BROKEN):
        verify_chain(chain)


@pytest.mark.property
@settings(deadline=None)
@given(chain=chains(), data=st.data())
def test_deleting_any_entry_breaks_the_anchored_chain(chain: Chain, data: st.DataObject) -> None:
    head = chain[-1].hash
    index = data.draw(st.integers(0, len(chain) - 1))
    del chain[index]
    with pytest.raises(AuditChainBroken, match=r"^(audit entry \d+ |the chain ends)"):
        verify_chain(chain, head=head)


@pytest.mark.property
@settings(deadline=None)
@given(chain=chains(), data=st.data())
def test_truncation_passes_alone_but_not_against_the_head(chain: Chain, data: st.DataObject) -> None:
    kept = data.draw(st.integers(0, len(chain) - 1))
    assert verify_chain(chain[:kept]) == kept
    with pytest.raises(AuditChainBroken, match=f"^the chain ends at entry {kept}, not at the expected head$"):
        verify_chain(chain[:kept], head=chain[-1].hash)


def test_public_names() -> None:
    assert dir(audit) == ["AuditEntry", "GENESIS", "link", "verify_chain"]
