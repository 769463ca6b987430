"""The audit log page (I8: the chain is verified on every view, and a break is shown, not hidden) and
a project's history page; both need a browser session (I3)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, wheel
from tests.functional.conftest import login
from tests.functional.test_policy_pages import CI_TOKEN
from tpp_core import ApprovalRequest, PersonId, Policy, RecordAudit, Scope
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.models import AuditRecord

AUDIT = "/tpp/audit"


def activity(registry: Registry) -> ApprovalRequest:
    """Devices, the brief's policy, an upload and one approval: a dozen audit entries."""
    registry.enrol("lead", "cora", "dave")
    registry.set_policy(brief_policy())
    request = registry.upload("acme", "1.0", wheel())
    assert request is not None
    registry.approve(request.id, "lead")
    registry.session.commit()
    return request


def records(registry: Registry) -> list[AuditRecord]:
    registry.session.rollback()
    return list(registry.session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def seqs(page: object) -> list[int]:
    return [int(row["data-seq"]) for row in page.html.select("tr.audit-entry")]  # type: ignore[attr-defined]


def sentences(page: Any) -> list[str]:
    """Each listed entry's sentence, as a person reads it."""
    return [" ".join(p.text.split()) for p in page.html.select("tr.audit-entry .audit-sentence")]


def facts(row: Any) -> dict[str, str]:
    """An entry's facts (the last of a label that repeats)."""
    return {div.dt.text: div.dd.text for div in row.select(".audit-what > dl.audit-facts > div")}


def recorded(row: Any) -> dict[str, str]:
    """An entry's recorded fields, from its details."""
    return {div.dt.text: div.dd.text for div in row.select("details.audit-record dl > div")}


def test_the_log_is_shown_newest_first_in_words_with_the_chain_verified(app: TestApp, registry: Registry) -> None:
    request = activity(registry)
    chain = records(registry)
    login(app, "bob")  # anyone signed in may read the log
    page = app.get(AUDIT)
    status = page.html.find(id="chain")
    assert status["data-chain"] == "intact"
    assert " ".join(status.text.split()) == f"Chain verified: {len(chain)} entries, intact (head {chain[-1].hash})."
    assert seqs(page) == [r.seq for r in reversed(chain)]
    newest = page.html.select("tr.audit-entry")[0]
    assert sentences(page)[0] == "lead approved acme 1.0 with the device 'phone'"
    links = {a.text: a["href"] for a in newest.select(".audit-sentence a")}
    assert links == {"lead": "/tpp/audit?person=lead", "acme 1.0": f"/tpp/requests/{request.id}"}
    assert facts(newest) == {"Still missing": str(chain[-1].data["quorum"])}
    # The exact record stays one click away, for an investigator.
    assert recorded(newest) == {
        "Kind": "tpp:request:approval",
        "Subject": f"request:{request.id}",
        "Actor": "lead",
        "Data": json.dumps(chain[-1].data, sort_keys=True, separators=(",", ":")),
        "Hash": chain[-1].hash,
        "Previous": chain[-2].hash,
    }
    subject = newest.select_one("details.audit-record a")["href"]
    assert subject == f"/tpp/audit?subject=request%3A{request.id}"
    opened = page.html.select_one("tr.audit-entry[data-kind='tpp:request:opened']")
    assert sentences(page)[1] == "ci uploaded acme 1.0, which now awaits approval"
    assert facts(opened) == {
        "File": "acme-1.0-py3-none-any.whl (1,000 bytes)",
        "sha256": "0" * 63 + "1",
        "Under policy version": "1",
        "Expires": "2026-01-09 12:00:00 UTC",
    }
    applied = page.html.select_one("tr.audit-entry[data-kind='tpp:policy:applied']")
    assert applied.select_one(".audit-sentence a[href='/tpp/policies/project/acme']").text == "acme"
    assert facts(applied)["Group company"] == "1 seat; members: cora, dave, lead; not counted: lead"


def test_each_kind_reads_as_a_sentence_naming_releases_and_devices(app: TestApp, registry: Registry) -> None:
    """A request's life, a policy change and a device's, through the database: a request is named by
    its release (or the policy it changes), a decision by the name its device had when it signed."""
    release = activity(registry)
    for person in ("cora", "dave"):
        registry.approve(release.id, person)
    smaller = Policy(scope=Scope.project("acme"), version=2, groups=brief_policy().groups[:2])
    change = registry.policies.propose(PersonId("lead"), smaller, registry.now)
    assert change is not None
    for person in ("lead", "cora", "dave"):
        registry.approve(change, person)
    later = registry.upload("acme", "2.0", wheel("acme-2.0.tar.gz", 3))
    assert later is not None
    registry.approve(later.id, "cora")
    registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", 4))
    dave, cora = (registry.devices.devices(PersonId(person))[0] for person in ("dave", "cora"))
    registry.devices.rename(PersonId("dave"), dave.id, "pixel", registry.now)
    registry.devices.remove(PersonId("cora"), cora.id, registry.now)
    registry.tick(timedelta(days=30))
    registry.approvals.expire_overdue(registry.now)
    registry.session.commit()
    login(app, "bob")
    assert sentences(app.get(AUDIT))[:18] == [
        "The time to approve acme 2.0 ran out",
        "cora removed the device 'phone'",
        "dave renamed the device 'phone' to 'pixel'",
        "More files joined acme 2.0; the approvals given before them no longer count",
        "cora approved acme 2.0 with the device 'phone'",
        "ci uploaded acme 2.0, which now awaits approval",
        "lead's change to the policy of acme was approved: version 2 is in force",
        "Enough people approved a change to the policy of acme",
        "dave approved a change to the policy of acme with the device 'phone'",
        "cora approved a change to the policy of acme with the device 'phone'",
        "lead approved a change to the policy of acme with the device 'phone'",
        "lead proposed a change to the policy of acme",
        "Enough people approved acme 1.0",
        "dave approved acme 1.0 with the device 'phone'",
        "cora approved acme 1.0 with the device 'phone'",
        "lead approved acme 1.0 with the device 'phone'",
        "ci uploaded acme 1.0, which now awaits approval",
        "lead put version 1 of the policy of acme in force",
    ]


@pytest.mark.parametrize(
    ("kind", "data", "sentence", "shown"),
    [
        ("tpp:mirror:synced", {"count": 3, "from": "pypi"}, "TPP: mirror synced (thing:1)", ["3", "pypi"]),
        ("tpp:device:renamed", {"from": ["a", "b"]}, "TPP: device renamed (thing:1)", ['["a","b"]']),
    ],
    ids=["unknown-kind", "unexpected-data"],
)
def test_an_entry_the_wording_does_not_know_reads_in_a_generic_form(
    app: TestApp, registry: Registry, kind: str, data: dict[str, object], sentence: str, shown: list[str]
) -> None:
    """A newer version's kind, or data of another shape than its kind writes, is shown, never a 500."""
    entry = RecordAudit(at=registry.now, kind=kind, actor=None, subject="thing:1", data=data)
    DatabaseAuditLog(registry.session).record(entry)
    registry.session.commit()
    login(app, "bob")
    page = app.get(AUDIT)
    assert sentences(page) == [sentence]
    assert [div.dd.text for div in page.html.select(".audit-what > dl.audit-facts > div")] == shown


def test_the_log_can_show_one_subject(app: TestApp, registry: Registry) -> None:
    request = activity(registry)
    about = [r for r in records(registry) if r.subject == f"request:{request.id}"]
    login(app, "cora")
    page = app.get(AUDIT, {"subject": f"request:{request.id}"})
    assert seqs(page) == [r.seq for r in reversed(about)]
    assert page.html.find(id="chain")["data-chain"] == "intact"  # the whole chain is still checked
    assert not app.get(AUDIT, {"subject": "request:nothing"}).html.select("tr.audit-entry")


def test_the_log_is_paged_fifty_entries_at_a_time(app: TestApp, registry: Registry) -> None:
    log = DatabaseAuditLog(registry.session)
    for n in range(120):
        log.record(RecordAudit(at=registry.now, kind="tpp:test:entry", actor=None, subject=f"thing:{n}", data={"n": n}))
    registry.session.commit()
    login(app, "bob")
    first = app.get(AUDIT)
    assert seqs(first) == list(range(120, 70, -1))
    assert "120 entries, intact" in first.html.find(id="chain").text
    second = first.click("Older")
    assert seqs(second) == list(range(70, 20, -1))
    third = second.click("Older")
    assert seqs(third) == list(range(20, 0, -1))
    assert "Older" not in third.text
    assert "Page 3 of 3" in third.text
    assert seqs(third.click("Newer")) == seqs(second)
    beyond = app.get(AUDIT, {"page": "4"})
    assert beyond.html.find(id="no-entries") is not None
    assert seqs(app.get(AUDIT, {"page": "2", "subject": "thing:7"})) == []


@pytest.mark.parametrize("value", ["0", "-1", "x", "", "1.5", "9" * 12, "\N{ARABIC-INDIC DIGIT ONE}"])
def test_a_bad_page_number_is_a_400(app: TestApp, value: str) -> None:
    login(app, "bob")
    page = app.get(AUDIT, {"page": value}, status=400)
    assert "page must be a whole number of at least 1" in page.html.find("p", class_="error").text


def test_a_too_long_subject_is_a_400(app: TestApp) -> None:
    login(app, "bob")
    app.get(AUDIT, {"subject": "request:" + "x" * 300}, status=400)


def _edit_actor(registry: Registry) -> None:
    registry.session.execute(text("UPDATE tpp_audit SET actor = 'mallory' WHERE seq = 2"))


def _edit_data(registry: Registry) -> None:
    registry.session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(data={"forged": True}))


def _remove(registry: Registry) -> None:
    registry.session.execute(delete(AuditRecord).where(AuditRecord.seq == 2))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_edit_actor, "audit entry 2 was altered"),
        (_edit_data, "audit entry 2 was altered"),
        (_remove, "audit entry 3 stands where entry 2 should"),
    ],
    ids=["actor", "data", "removed"],
)
def test_a_tampered_log_is_shown_broken(app: TestApp, registry: Registry, tamper: object, message: str) -> None:
    """A break answers 200 (this page is where it is investigated) with the message up front."""
    activity(registry)
    tamper(registry)  # type: ignore[operator]
    registry.session.commit()
    login(app, "bob")
    page = app.get(AUDIT, status=200)
    status = page.html.find(id="chain")
    assert status["data-chain"] == "broken"
    assert status["role"] == "alert"
    assert message in status.text
    assert "Chain verified" not in page.text
    assert " ".join(status.text.split()).startswith("Chain broken: " + message)
    assert page.html.select("tr.audit-entry")  # the entries are still listed for the investigation


def test_history_lists_the_projects_requests_newest_first(app: TestApp, registry: Registry) -> None:
    first = activity(registry)
    registry.approve(first.id, "cora")
    registry.approve(first.id, "dave")
    registry.tick(timedelta(minutes=5))
    second = registry.upload("acme", "1.1", wheel("acme-1.1.tar.gz", 2), wheel("acme-1.1-py3-none-any.whl", 3))
    assert second is not None
    registry.session.commit()
    login(app, "bob")
    page = app.get("/tpp/projects/acme")
    rows = [[" ".join(td.text.split()) for td in tr.find_all("td")] for tr in page.html.select("tr.history-request")]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("1.1", "verifying", "2", second.id),
        ("1.0", "approved", "1", first.id),
    ]
    assert page.html.select("tr.history-request a")[0]["href"] == f"/tpp/requests/{second.id}"
    assert page.html.find("a", string="Approval policy of acme")["href"] == "/tpp/policies/project/acme"


def test_history_of_a_project_without_requests_is_empty(app: TestApp) -> None:
    login(app, "bob")
    assert app.get("/tpp/projects/unknown").html.find(id="no-requests") is not None


def test_history_addresses_are_canonical_and_checked(app: TestApp) -> None:
    login(app, "bob")
    assert app.get("/tpp/projects/Acme_Tools", status=303).location == "http://localhost:6543/tpp/projects/acme-tools"
    page = app.get("/tpp/projects/-acme-", status=400)
    assert "invalid project name: '-acme-'" in page.html.find("p", class_="error").text


@pytest.mark.parametrize("path", [AUDIT, AUDIT + "?project=acme&person=lead", "/tpp/projects/acme"])
@pytest.mark.parametrize("headers", [CI_TOKEN, {}], ids=["api-token", "no-credential"])
def test_tokens_and_strangers_cannot_read_the_log_or_history(
    app: TestApp, registry: Registry, path: str, headers: dict[str, str]
) -> None:
    """I3: only a browser session reads these pages."""
    activity(registry)
    page = app.get(path, headers=headers, status=403)
    assert "API tokens and basic auth cannot" in page.html.find("p", class_="error").text
    assert not page.html.select("tr.audit-entry, tr.history-request")


def test_an_empty_log_is_intact(app: TestApp) -> None:
    login(app, "bob")
    page = app.get(AUDIT)
    assert " ".join(page.html.find(id="chain").text.split()) == "Chain verified: 0 entries, intact."
    assert page.html.find(id="no-entries") is not None
