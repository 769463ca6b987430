"""What each audit kind means in words: the one place that turns an entry into a sentence and facts.

    >>> from datetime import UTC, datetime
    >>> from tpp_core import AuditEntry
    >>> entry = AuditEntry(seq=3, at=datetime(2026, 1, 2, tzinfo=UTC), kind="tpp:device:renamed", actor="ann",
    ...                    subject="device:7", data={"from": "laptop", "to": "work"}, prev="0" * 64, hash="1" * 64)
    >>> read(entry, Mentions(requests={}, devices={}, signed_with={})).text
    "ann renamed the device 'laptop' to 'work'"

A sentence is text and :class:`Ref` parts (a person, a request, a policy) that the page links. A
kind this table does not know (a newer version's), or an entry whose data has another shape than
its kind writes (an older version's, or an edited one, which the chain check reports), reads in a
generic form: the page shows every entry and never fails on one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tpp_core import DEFAULT_GROUP, AuditEntry, Policy
from tpp_warehouse.audit import Mentions

from .display import when

__all__ = ["KINDS", "Fact", "Kind", "Reading", "Ref", "compact", "read", "sections"]


@dataclass(frozen=True, slots=True)
class Ref:
    """A part of a sentence the page links: a ``person`` (to their entries), a ``request`` (its page;
    ``value`` is its id) or a ``policy`` (its page; ``value`` is the scope, ``acme`` or ``acme-*``)."""

    kind: Literal["person", "request", "policy"]
    value: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of an entry's facts; ``code`` marks a digest or an id, shown in monospace and wrapped anywhere."""

    label: str
    value: str
    code: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """An entry in words: one sentence, and the facts that support it."""

    sentence: tuple[str | Ref, ...]
    facts: tuple[Fact, ...] = ()

    @property
    def text(self) -> str:
        """The sentence as plain text."""
        return "".join(map(str, self.sentence))


@dataclass(frozen=True, slots=True)
class Kind:
    """An audit kind: the section and name the filter lists it under, and how its entries read."""

    section: str
    label: str
    read: Callable[[AuditEntry, Mentions], Reading]


def read(entry: AuditEntry, mentions: Mentions) -> Reading:
    """The entry in words, with what ``mentions`` looked up; the generic form if its kind is unknown
    or its data does not have its kind's shape.

    :raises: nothing.
    """
    try:
        return KINDS[entry.kind].read(entry, mentions)
    except (LookupError, TypeError, ValueError, AttributeError, ArithmeticError):
        return _generic(entry)


def compact(data: Any) -> str:
    """Recorded data as compact, stable JSON: what an investigator compares, byte for byte.

    >>> compact({"b": [1, 2], "a": "é"})
    '{"a":"é","b":[1,2]}'
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sections() -> dict[str, list[tuple[str, str]]]:
    """The known kinds by section, as the filter lists them: section -> [(kind, label)]."""
    listed: dict[str, list[tuple[str, str]]] = {}
    for kind, about in KINDS.items():
        listed.setdefault(about.section, []).append((kind, about.label))
    return listed


# --- the parts of sentences --------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not text: {value!r}")
    return value


def _who(entry: AuditEntry) -> str | Ref:
    """The actor; TPP itself did what nobody did (an expiry, a quorum reached)."""
    return "TPP" if entry.actor is None else _person(entry.actor)


def _person(name: str) -> Ref:
    return Ref("person", name, name)


def _request(entry: AuditEntry, mentions: Mentions) -> Ref:
    """The request an entry is about, named by what it asks: a release, or a change of a policy."""
    request_id = entry.subject.removeprefix("request:")
    if request_id == entry.subject:
        raise ValueError(f"not a request's entry: {entry.subject!r}")
    facts = mentions.requests.get(request_id)
    if facts is not None and facts.project is not None:
        return Ref("request", request_id, f"{facts.project} {facts.version}")
    if facts is not None:
        return Ref("request", request_id, f"a change to the policy of {facts.scope}")
    return Ref("request", request_id, f"request {request_id}")  # its row is gone: say what the log says


def _scope(entry: AuditEntry) -> Ref:
    scope = entry.subject.removeprefix("policy:")
    if scope == entry.subject:
        raise ValueError(f"not a policy's entry: {entry.subject!r}")
    return Ref("policy", scope, scope)


def _device(entry: AuditEntry, mentions: Mentions) -> str:
    """The device an entry is about: the name it recorded, or the device's name now."""
    if "name" in entry.data:
        return f"the device {_text(entry.data, 'name')!r}"
    device_id = int(entry.subject.removeprefix("device:"))
    name = mentions.devices.get(device_id)
    return f"device {device_id} (since removed)" if name is None else f"the device {name!r}"


def _signed(entry: AuditEntry, mentions: Mentions) -> tuple[str, ...]:
    """The device that signed a decision, by the name it had then (a later rename or removal is not history)."""
    if entry.seq not in mentions.signed_with:
        return ()
    name = mentions.signed_with[entry.seq]
    return (" with a device whose name was not recorded",) if name is None else (f" with the device {name!r}",)


def _time(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not a time: {value!r}")
    return when(datetime.fromisoformat(value))


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _names(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise TypeError(f"not a list of names: {value!r}")
    return value


def _people(value: object) -> str:
    return ", ".join(_names(value)) or "nobody"


def _groups(policy: Policy) -> tuple[Fact, ...]:
    """A policy's groups in the words of the policy pages: seats, members, not counted."""
    facts = []
    for group in policy.groups:
        not_counted = (["the uploader"] if group.exclude_uploader else []) + sorted(group.excluded)
        described = f"{_count(group.seats, 'seat')}; members: {', '.join(sorted(group.members))}"
        if not_counted:
            described += f"; not counted: {', '.join(not_counted)}"
        facts.append(Fact(f"Group {group.name}", described))
    return tuple(facts)


def _reason(data: Mapping[str, Any]) -> tuple[Fact, ...]:
    return (Fact("Reason", _text(data, "reason")),) if data.get("reason") else ()


# --- requests: tpp_core.request writes these ------------------------------------------------------


def _opened(entry: AuditEntry, mentions: Mentions) -> Reading:
    data = entry.data
    pinned = (
        Fact("Under policy version", str(int(data["policy_version"]))),
        Fact("Expires", _time(data["expires_at"])),
    )
    if "policy" in data:
        return Reading(
            sentence=(_who(entry), " proposed ", _request(entry, mentions)),
            facts=pinned + _groups(Policy.from_dict(data["policy"])),
        )
    files: list[Fact] = []
    for file in data["files"]:
        files += [
            Fact("File", f"{_text(file, 'name')} ({int(file['size']):,} bytes)"),
            Fact("sha256", _text(file, "sha256"), code=True),
        ]
    return Reading(
        sentence=(_who(entry), " uploaded ", _request(entry, mentions), ", which now awaits approval"),
        facts=(*files, *pinned),
    )


def _approval(entry: AuditEntry, mentions: Mentions) -> Reading:
    quorum = _text(entry.data, "quorum")
    missing = "nothing: every group has its approvers" if quorum == "satisfied" else quorum
    return Reading(
        sentence=(_who(entry), " approved ", _request(entry, mentions), *_signed(entry, mentions)),
        facts=(Fact("Still missing", missing),),
    )


def _approved(entry: AuditEntry, mentions: Mentions) -> Reading:
    seats = entry.data["seats"]
    return Reading(
        sentence=("Enough people approved ", _request(entry, mentions)),
        facts=tuple(Fact(f"Group {group}", _people(people)) for group, people in seats.items()),
    )


def _rejected(entry: AuditEntry, mentions: Mentions) -> Reading:
    return Reading(
        sentence=(_who(entry), " rejected ", _request(entry, mentions), *_signed(entry, mentions)),
        facts=_reason(entry.data),
    )


def _expired(entry: AuditEntry, mentions: Mentions) -> Reading:
    return Reading(sentence=("The time to approve ", _request(entry, mentions), " ran out"))


def _cancelled(entry: AuditEntry, mentions: Mentions) -> Reading:
    return Reading(sentence=(_who(entry), " cancelled ", _request(entry, mentions)), facts=_reason(entry.data))


def _files_added(entry: AuditEntry, mentions: Mentions) -> Reading:
    added = tuple(Fact("File added", name) for name in _names(entry.data["files"]))
    sentence: tuple[str | Ref, ...] = ("More files joined ", _request(entry, mentions))
    if not _names(entry.data["withdrawn"]):
        return Reading(sentence=sentence, facts=added)
    withdrawn = Fact("Approvals withdrawn", _people(entry.data["withdrawn"]))
    return Reading(sentence=(*sentence, "; the approvals given before them no longer count"), facts=(*added, withdrawn))


# --- devices: tpp_warehouse.devices writes these ---------------------------------------------------

#: How a device was admitted (tpp_core.Enrolment), but a recovery, which names who vouched.
_ENROLMENT = {"bootstrap": " (their first device)", "vouched": " (confirmed with another of their devices)"}


def _enrolled(entry: AuditEntry, mentions: Mentions) -> Reading:
    enrolment = _text(entry.data, "enrolment")
    how: tuple[str | Ref, ...]
    if enrolment == "recovered":
        how = (", after ", _person(_text(entry.data, "recovered_by")), " vouched for them")
    else:
        how = (_ENROLMENT[enrolment],)
    return Reading(
        sentence=(_who(entry), f" added {_device(entry, mentions)}", *how),
        facts=(Fact("Credential", _text(entry.data, "credential_id"), code=True),),
    )


def _recovery_vouched(entry: AuditEntry, mentions: Mentions) -> Reading:
    return Reading(
        sentence=(_who(entry), " vouched for ", _person(_text(entry.data, "person")), " to add a new device"),
        facts=(Fact("Voucher valid until", _time(entry.data["expires_at"])),),
    )


def _confirmed_session(entry: AuditEntry, mentions: Mentions) -> Reading:
    return Reading(sentence=(_who(entry), f" confirmed their session with {_device(entry, mentions)}"))


def _renamed(entry: AuditEntry, mentions: Mentions) -> Reading:
    old, new = _text(entry.data, "from"), _text(entry.data, "to")
    return Reading(sentence=(_who(entry), f" renamed the device {old!r} to {new!r}"))


def _removed(entry: AuditEntry, mentions: Mentions) -> Reading:
    return Reading(
        sentence=(_who(entry), f" removed {_device(entry, mentions)}"),
        facts=(Fact("Credential", _text(entry.data, "credential_id"), code=True),),
    )


def _push_subscribed(entry: AuditEntry, mentions: Mentions) -> Reading:
    service = entry.data["push_service"]
    if service is None:
        return Reading(sentence=(_who(entry), f" turned off notifications on {_device(entry, mentions)}"))
    return Reading(
        sentence=(_who(entry), f" turned on notifications on {_device(entry, mentions)}"),
        facts=(Fact("Push service", _text(entry.data, "push_service")),),
    )


def _push_gone(entry: AuditEntry, mentions: Mentions) -> Reading:
    status = entry.data["status"]
    return Reading(
        sentence=(f"The push service stopped delivering to {_device(entry, mentions)}; its notifications are off",),
        facts=(Fact("Push service's answer", "no answer" if status is None else f"HTTP {int(status)}"),),
    )


# --- policies and invitations: tpp_warehouse.policies and .invitations write these -----------------


def _applied(entry: AuditEntry, mentions: Mentions) -> Reading:
    policy, scope = Policy.from_dict(entry.data["policy"]), _scope(entry)
    version, groups = int(entry.data["version"]), _groups(policy)
    sentence: tuple[str | Ref, ...]
    if entry.data["approved_by"] is not None:
        change = Ref("request", _text(entry.data, "approved_by"), "change")
        sentence = (_who(entry), "'s ", change, " to the policy of ", scope, " was approved")
        return Reading(sentence=(*sentence, f": version {version} is in force"), facts=groups)
    if [g.name for g in policy.groups] == [DEFAULT_GROUP]:  # I5: written as the name is first claimed
        sentence = (scope, " got the default policy (one of its owners approves) as ", _who(entry), " claimed it")
    else:  # a first version, in force when saved
        sentence = (_who(entry), f" put version {version} of the policy of ", scope, " in force")
    return Reading(sentence=sentence, facts=groups)


def _invited(entry: AuditEntry, mentions: Mentions) -> Reading:
    invitee = _person(_text(entry.data, "person"))
    return Reading(sentence=(_who(entry), " invited ", invitee, " to approve for ", _scope(entry)))


def _answered(verb: str) -> Callable[[AuditEntry, Mentions], Reading]:
    """An invitee's answer (``verb``: "accepted", "declined")."""

    def reading(entry: AuditEntry, mentions: Mentions) -> Reading:
        invitee = _person(_text(entry.data, "person"))
        return Reading(sentence=(invitee, f" {verb} the invitation to approve for ", _scope(entry)))

    return reading


def _generic(entry: AuditEntry) -> Reading:
    """Any entry, read from its kind's words and its data's keys."""
    words = entry.kind.removeprefix("tpp:").replace(":", " ").replace("-", " ")
    # A damaged row may hold other JSON than an object; the recorded data still shows it.
    data = sorted(entry.data.items()) if isinstance(entry.data, Mapping) else []
    return Reading(sentence=(_who(entry), f": {words} ({entry.subject})"), facts=tuple(_fact(k, v) for k, v in data))


def _fact(key: str, value: object) -> Fact:
    label = key.replace("_", " ").capitalize()
    return Fact(label, value) if isinstance(value, str) else Fact(label, compact(value), code=True)


#: Every kind TPP writes, in the order the filter lists them.
KINDS: dict[str, Kind] = {
    "tpp:request:opened": Kind("Requests", "Uploads and proposed changes", _opened),
    "tpp:request:approval": Kind("Requests", "Approvals", _approval),
    "tpp:request:approved": Kind("Requests", "Requests approved", _approved),
    "tpp:request:rejected": Kind("Requests", "Rejections", _rejected),
    "tpp:request:expired": Kind("Requests", "Requests expired", _expired),
    "tpp:request:cancelled": Kind("Requests", "Requests cancelled", _cancelled),
    "tpp:request:files-added": Kind("Requests", "Files added to a request", _files_added),
    "tpp:device:enrolled": Kind("Devices", "Devices added", _enrolled),
    "tpp:device:recovery-vouched": Kind("Devices", "Recovery vouchers", _recovery_vouched),
    "tpp:device:confirmed-session": Kind("Devices", "Sessions confirmed", _confirmed_session),
    "tpp:device:renamed": Kind("Devices", "Devices renamed", _renamed),
    "tpp:device:removed": Kind("Devices", "Devices removed", _removed),
    "tpp:device:push-subscribed": Kind("Devices", "Notifications turned on or off", _push_subscribed),
    "tpp:device:push-gone": Kind("Devices", "Notifications dropped by the push service", _push_gone),
    "tpp:policy:applied": Kind("Policies", "Policies put in force", _applied),
    "tpp:invitation:sent": Kind("Policies", "Invitations sent", _invited),
    "tpp:invitation:accepted": Kind("Policies", "Invitations accepted", _answered("accepted")),
    "tpp:invitation:declined": Kind("Policies", "Invitations declined", _answered("declined")),
}
