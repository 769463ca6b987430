"""The audit log page (I8: the chain is verified on every view, and a break is shown, not hidden) and
a project's history page; both need a browser session (I3)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, wheel
from tests.functional.conftest import login
from tests.functional.test_policy_pages import CI_TOKEN
from tpp_core import ApprovalRequest, RecordAudit
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


def test_the_log_is_shown_newest_first_with_the_chain_verified(app: TestApp, registry: Registry) -> None:
    request = activity(registry)
    chain = records(registry)
    login(app, "bob")  # anyone signed in may read the log
    page = app.get(AUDIT)
    status = page.html.find(id="chain")
    assert status["data-chain"] == "intact"
    assert f"{len(chain)} entries, chain intact, head {chain[-1].hash}" in " ".join(status.text.split())
    assert seqs(page) == [r.seq for r in reversed(chain)]
    newest = page.html.select("tr.audit-entry")[0].find_all("td")
    assert [td.text.strip() for td in newest[2:5]] == [chain[-1].kind, "lead", f"request:{request.id}"]
    assert newest[4].find("a")["href"] == f"/tpp/requests/{request.id}"
    assert newest[5].text == json.dumps(chain[-1].data, sort_keys=True, separators=(",", ":"))
    policy_row = next(row for row in page.html.select("tr.audit-entry") if "tpp:policy:applied" in row.text)
    assert policy_row.find("a")["href"] == "/tpp/policies/project/acme"


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
    assert "120 entries, chain intact" in first.html.find(id="chain").text
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
    assert "chain intact" not in page.text
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


@pytest.mark.parametrize("path", [AUDIT, "/tpp/projects/acme"])
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
    assert " ".join(page.html.find(id="chain").text.split()) == "Verify the chain: 0 entries, chain intact."
    assert page.html.find(id="no-entries") is not None
