"""Each audit kind in words (tpp_warehouse.views.audit_wording): every kind TPP writes has a sentence,
each sentence names what the entry is about, and nothing an entry holds makes reading it fail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.common.scenario import T0, brief_policy, group
from tpp_core import AuditEntry, PersonId, Policy, ProjectName, RequestState, Scope, default_policy
from tpp_warehouse.audit import Mentions, RequestFacts
from tpp_warehouse.views.audit_wording import KINDS, Fact, Ref, read, sections

ROOT = Path(__file__).resolve().parents[3]
MENTIONS = Mentions(
    requests={
        "r1": RequestFacts(project="acme", version="1.0", scope="acme"),
        "r2": RequestFacts(project=None, version=None, scope="acme-*"),
    },
    devices={7: "laptop"},
    signed_with={7: "phone", 8: None},
)
EXPIRES = "2026-01-09T12:00:00+00:00"
FILE = {"name": "acme-1.0.tar.gz", "sha256": "ab" * 32, "size": 1234}


def entry(
    kind: str, data: dict[str, Any], *, actor: str | None = "ann", subject: str = "request:r1", seq: int = 7
) -> AuditEntry:
    """An entry of ``kind`` as the log holds it; seq 7 is a decision signed with a device named 'phone'."""
    person = None if actor is None else PersonId(actor)
    return AuditEntry(seq=seq, at=T0, kind=kind, actor=person, subject=subject, data=data, prev="0" * 64, hash="1" * 64)


def written_kinds() -> set[str]:
    """Every kind the code writes: the literal ones, and tpp_core.request's ``tpp:request:<action>``
    (its own actions, and each state a request ends in)."""
    kinds: set[str] = set()
    for package in ("tpp_core", "tpp_warehouse", "tpp_devpi"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "audit_wording.py":
                kinds.update(re.findall(r'"(tpp:[a-z-]+:[a-z-]+)"', path.read_text()))
    request = (ROOT / "tpp_core" / "request.py").read_text()
    actions = re.findall(r'_audit\(\s*[a-z.]+,\s*"([a-z-]+)"', request)
    ends = [state.value for state in RequestState if state is not RequestState.VERIFYING]
    kinds.update(f"tpp:request:{action}" for action in [*actions, *ends])
    return kinds - {"tpp:subject:action"}  # tpp_core.actions names the pattern itself


def test_every_kind_the_code_writes_has_words_and_no_other() -> None:
    assert {"tpp:request:opened", "tpp:request:files-added", "tpp:request:cancelled"} <= written_kinds()
    assert written_kinds() == set(KINDS)


def test_the_filter_lists_every_kind_by_section_in_the_tables_order() -> None:
    listed = sections()
    assert list(listed) == ["Requests", "Devices", "Policies"]
    assert [kind for kinds in listed.values() for kind, _ in kinds] == list(KINDS)
    assert ("tpp:request:approval", "Approvals") in listed["Requests"]


POLICY_CHANGE = {"policy": brief_policy(2).to_dict(), "policy_version": 1, "expires_at": EXPIRES}


@pytest.mark.parametrize(
    ("item", "sentence"),
    [
        (
            entry("tpp:request:opened", {"files": [FILE], "policy_version": 3, "expires_at": EXPIRES}, actor="ci"),
            "ci uploaded acme 1.0, which now awaits approval",
        ),
        (
            entry("tpp:request:opened", POLICY_CHANGE, subject="request:r2"),
            "ann proposed a change to the policy of acme-*",
        ),
        (entry("tpp:request:approval", {"quorum": "satisfied"}), "ann approved acme 1.0 with the device 'phone'"),
        (
            entry("tpp:request:approval", {"quorum": "x"}, seq=8),
            "ann approved acme 1.0 with a device whose name was not recorded",
        ),
        (entry("tpp:request:approval", {"quorum": "x"}, seq=9), "ann approved acme 1.0"),
        (entry("tpp:request:approval", {"quorum": "x"}, subject="request:gone", seq=9), "ann approved request gone"),
        (entry("tpp:request:approved", {"seats": {"lead": ["ann"]}}, actor=None), "Enough people approved acme 1.0"),
        (entry("tpp:request:rejected", {"reason": "no"}), "ann rejected acme 1.0 with the device 'phone'"),
        (entry("tpp:request:expired", {}, actor=None), "The time to approve acme 1.0 ran out"),
        (entry("tpp:request:cancelled", {"reason": ""}), "ann cancelled acme 1.0"),
        (
            entry("tpp:request:files-added", {"files": ["a.whl"], "withdrawn": []}, actor=None),
            "More files joined acme 1.0",
        ),
        (
            entry("tpp:request:files-added", {"files": ["a.whl"], "withdrawn": ["ann"]}, actor=None),
            "More files joined acme 1.0; the approvals given before them no longer count",
        ),
        (
            entry("tpp:device:enrolled", {"name": "phone", "enrolment": "bootstrap", "credential_id": "ab"}),
            "ann added the device 'phone' (their first device)",
        ),
        (
            entry("tpp:device:enrolled", {"name": "key", "enrolment": "vouched", "credential_id": "ab"}),
            "ann added the device 'key' (confirmed with another of their devices)",
        ),
        (
            entry(
                "tpp:device:enrolled",
                {"name": "new", "enrolment": "recovered", "credential_id": "ab", "recovered_by": "root"},
            ),
            "ann added the device 'new', after root vouched for them",
        ),
        (
            entry("tpp:device:recovery-vouched", {"person": "bob", "expires_at": EXPIRES}, subject="person:bob"),
            "ann vouched for bob to add a new device",
        ),
        (
            entry("tpp:device:confirmed-session", {"name": "phone"}, subject="device:7"),
            "ann confirmed their session with the device 'phone'",
        ),
        (
            entry("tpp:device:renamed", {"from": "phone", "to": "pixel"}, subject="device:7"),
            "ann renamed the device 'phone' to 'pixel'",
        ),
        (
            entry("tpp:device:removed", {"name": "phone", "credential_id": "ab"}, subject="device:7"),
            "ann removed the device 'phone'",
        ),
        (
            entry("tpp:device:push-subscribed", {"push_service": "fcm.googleapis.com"}, subject="device:7"),
            "ann turned on notifications on the device 'laptop'",
        ),
        (
            entry("tpp:device:push-subscribed", {"push_service": None}, subject="device:7"),
            "ann turned off notifications on the device 'laptop'",
        ),
        (
            entry("tpp:device:push-gone", {"status": 410}, actor=None, subject="device:99"),
            "The push service stopped delivering to device 99 (since removed); its notifications are off",
        ),
        (
            entry(
                "tpp:policy:applied",
                {"version": 1, "policy": brief_policy().to_dict(), "approved_by": None},
                subject="policy:acme",
            ),
            "ann put version 1 of the policy of acme in force",
        ),
        (
            entry(
                "tpp:policy:applied",
                {"version": 2, "policy": brief_policy(2).to_dict(), "approved_by": "r9"},
                subject="policy:acme",
            ),
            "ann's change to the policy of acme was approved: version 2 is in force",
        ),
        (
            entry(
                "tpp:policy:applied",
                {
                    "version": 1,
                    "policy": default_policy(ProjectName("acme"), [PersonId("lead")]).to_dict(),
                    "approved_by": None,
                },
                actor="ci",
                subject="policy:acme",
            ),
            "acme got the default policy (one of its owners approves) as ci claimed it",
        ),
        (
            entry("tpp:invitation:sent", {"person": "bob"}, subject="policy:acme-*"),
            "ann invited bob to approve for acme-*",
        ),
        (
            entry("tpp:invitation:accepted", {"person": "bob"}, actor="bob", subject="policy:acme"),
            "bob accepted the invitation to approve for acme",
        ),
        (
            entry("tpp:invitation:declined", {"person": "bob"}, actor="bob", subject="policy:acme"),
            "bob declined the invitation to approve for acme",
        ),
    ],
    ids=lambda value: value.kind.split(":", 1)[1] if isinstance(value, AuditEntry) else "",
)
def test_each_kind_reads_as_a_sentence(item: AuditEntry, sentence: str) -> None:
    assert read(item, MENTIONS).text == sentence


def test_a_sentence_links_people_requests_and_policies() -> None:
    approval = read(entry("tpp:request:approval", {"quorum": "satisfied"}), MENTIONS)
    assert [p for p in approval.sentence if isinstance(p, Ref)] == [
        Ref("person", "ann", "ann"),
        Ref("request", "r1", "acme 1.0"),
    ]
    invited = read(entry("tpp:invitation:sent", {"person": "bob"}, subject="policy:acme-*"), MENTIONS)
    assert [p for p in invited.sentence if isinstance(p, Ref)] == [
        Ref("person", "ann", "ann"),
        Ref("person", "bob", "bob"),
        Ref("policy", "acme-*", "acme-*"),
    ]
    applied = read(
        entry(
            "tpp:policy:applied",
            {"version": 2, "policy": brief_policy(2).to_dict(), "approved_by": "r9"},
            subject="policy:acme",
        ),
        MENTIONS,
    )
    assert Ref("request", "r9", "change") in applied.sentence
    expired = read(entry("tpp:request:expired", {}, actor=None), MENTIONS)
    assert [p for p in expired.sentence if isinstance(p, Ref)] == [Ref("request", "r1", "acme 1.0")]


def test_facts_say_what_the_data_holds() -> None:
    opened = read(entry("tpp:request:opened", {"files": [FILE], "policy_version": 3, "expires_at": EXPIRES}), MENTIONS)
    assert opened.facts == (
        Fact("File", "acme-1.0.tar.gz (1,234 bytes)"),
        Fact("sha256", "ab" * 32, code=True),
        Fact("Under policy version", "3"),
        Fact("Expires", "2026-01-09 12:00:00 UTC"),
    )
    team = group("team", "bob", "cy", "dee", "eve", seats=2, no_uploader=True, excluded=("cy",))
    document = Policy(scope=Scope.project("acme"), version=1, groups=(team,)).to_dict()
    applied = read(
        entry("tpp:policy:applied", {"version": 1, "policy": document, "approved_by": None}, subject="policy:acme"),
        MENTIONS,
    )
    assert applied.facts == (Fact("Group team", "2 seats; members: bob, cy, dee, eve; not counted: the uploader, cy"),)
    approved = read(entry("tpp:request:approved", {"seats": {"lead": ["ann"], "core": []}}, actor=None), MENTIONS)
    assert approved.facts == (Fact("Group lead", "ann"), Fact("Group core", "nobody"))
    gone = read(entry("tpp:device:push-gone", {"status": None}, actor=None, subject="device:7"), MENTIONS)
    assert gone.facts == (Fact("Push service's answer", "no answer"),)
    assert read(entry("tpp:request:rejected", {"reason": "not ours"}), MENTIONS).facts == (Fact("Reason", "not ours"),)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(
    "data",
    [{}, {"name": 1, "files": "x", "seats": [], "policy": {}, "person": None, "quorum": 2, "version": "v", "from": []}],
    ids=["empty", "wrong-types"],
)
def test_data_of_another_shape_reads_in_the_generic_form(kind: str, data: dict[str, Any]) -> None:
    """An older version's entry, or an edited one, is read all the same: never an error."""
    reading = read(entry(kind, data, subject="thing:1"), MENTIONS)
    assert reading.text == f"ann: {kind[4:].replace(':', ' ').replace('-', ' ')} (thing:1)"


def test_an_unknown_kind_reads_from_its_words_and_data() -> None:
    reading = read(entry("tpp:mirror:synced", {"from": "pypi", "counts": {"files": 3}}, actor=None), MENTIONS)
    assert reading.text == "TPP: mirror synced (request:r1)"
    assert reading.facts == (Fact("Counts", '{"files":3}', code=True), Fact("From", "pypi"))
