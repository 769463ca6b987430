"""A hash-chained, append-only audit log (invariant I8).

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
reordering any entry breaks every link after it. Cutting entries off the end leaves a valid shorter
chain; anchor the head (publish or store the latest hash elsewhere) and pass it to
:func:`verify_chain` to catch that too.

>>> from datetime import datetime, timezone
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> first = link(None, at=t, kind="tpp:request:opened", actor="ci", subject="request:r1", data={})
>>> second = link(first, at=t, kind="tpp:request:approval", actor="ann", subject="request:r1", data={})
>>> verify_chain([first, second], head=second.hash)
2
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import AuditChainBroken, InvalidInput
from .identifiers import PersonId, person_id

__all__ = ["GENESIS", "AuditEntry", "link", "verify_chain"]

#: The "previous hash" of the first entry.
GENESIS = "0" * 64

# Kinds read "source:subject:action", as Warehouse's event tags do.
_KIND = re.compile(r"[a-z]+:[a-z-]+:[a-z-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One link of the chain. ``data`` must be JSON-serializable; it is hashed canonically."""

    seq: int
    at: datetime
    kind: str
    actor: PersonId | None
    subject: str
    data: Mapping[str, Any]
    prev: str
    hash: str


def _digest(
    seq: int, at: datetime, kind: str, actor: PersonId | None, subject: str, data: Mapping[str, Any], prev: str
) -> str:
    body = {"seq": seq, "at": at.isoformat(), "kind": kind, "actor": actor, "subject": subject, "data": data}
    body["prev"] = prev
    # allow_nan=False: NaN and Infinity are not JSON, and other verifiers could not reproduce the hash.
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def link(
    prev: AuditEntry | None, *, at: datetime, kind: str, actor: PersonId | None, subject: str, data: Mapping[str, Any]
) -> AuditEntry:
    """The entry that follows ``prev`` (``None`` starts a chain).

    :raises InvalidInput: if the kind is not ``source:subject:action``, the time is naive, the actor is
        not a person id, or the data is not JSON-serializable.
    """
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise InvalidInput(f"audit kind must read 'source:subject:action', got {kind!r}")
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise InvalidInput(f"audit times must be timezone-aware datetimes, got {at!r}")
    if actor is not None:
        person_id(actor)
    seq = 1 if prev is None else prev.seq + 1
    previous = GENESIS if prev is None else prev.hash
    try:
        digest = _digest(seq, at, kind, actor, subject, data, previous)
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"audit data for {kind} is not JSON-serializable: {error}") from None
    return AuditEntry(seq=seq, at=at, kind=kind, actor=actor, subject=subject, data=data, prev=previous, hash=digest)


def verify_chain(entries: Iterable[AuditEntry], *, head: str | None = None) -> int:
    """Check a whole chain from its first entry; returns how many entries it holds.

    :raises AuditChainBroken: naming the first entry that does not link, or if the last hash is not
        ``head`` when one is given.
    """
    previous, seq = GENESIS, 0
    for entry in entries:
        seq += 1
        if entry.seq != seq:
            raise AuditChainBroken(f"audit entry {entry.seq} stands where entry {seq} should")
        if entry.prev != previous:
            raise AuditChainBroken(f"audit entry {seq} does not follow entry {seq - 1}")
        try:
            expected = _digest(entry.seq, entry.at, entry.kind, entry.actor, entry.subject, entry.data, entry.prev)
        except (AttributeError, TypeError, ValueError):  # a field replaced by something unhashable
            expected = ""
        if entry.hash != expected:
            raise AuditChainBroken(f"audit entry {seq} was altered")
        previous = entry.hash
    if head is not None and previous != head:
        raise AuditChainBroken(f"the chain ends at entry {seq}, not at the expected head")
    return seq


def __dir__() -> list[str]:
    return __all__
