"""The audit log's filters: by project (or prefix), by person, by kind, combined, paged, and checked
(a bad value is a 400 naming it). Each expectation is computed from the stored entries and requests,
so a filter that keeps a wrong entry, or drops a right one, fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import group, wheel
from tests.functional.conftest import login
from tests.functional.test_audit_pages import AUDIT, activity, records, sentences, seqs
from tpp_core import PersonId, Policy, RecordAudit, Scope
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.models import AuditRecord, RequestRecord


@dataclass(frozen=True)
class Story:
    """Who did what: the subjects of each project's requests, and dave's device."""

    requests: dict[str, set[str]]  # project -> its requests' subjects
    dave_device: str


def story(registry: Registry) -> Story:
    """acme (approved by lead and cora, a policy change pending), beta (approved by cora), and
    acme-cli under the prefix policy acme-*; lead vouches for dave, whose push service gave up."""
    release = activity(registry)
    registry.approve(release.id, "cora")
    lead = PersonId("lead")
    registry.policies.propose(
        lead, Policy(scope=Scope.project("acme"), version=2, groups=(group("lead", "lead"),)), registry.now
    )
    registry.host.owners_of["beta"] = {"lead"}
    registry.set_policy(Policy(scope=Scope.project("beta"), version=1, groups=(group("team", "lead", "cora"),)))
    beta = registry.upload("beta", "1.0", wheel("beta-1.0.tar.gz", 5))
    assert beta is not None
    registry.approve(beta.id, "cora")
    tools = Policy(scope=Scope.prefix("acme-"), version=1, groups=(group("tools", "lead", "dave"),))
    registry.set_policy(tools, by="root")  # the registry's admin sets a prefix's policy
    registry.upload("acme-cli", "0.1", wheel("acme_cli-0.1.tar.gz", 6))
    registry.devices.recover(lead, PersonId("dave"), registry.now)
    dave = f"device:{registry.devices.devices(PersonId('dave'))[0].id}"
    gone = RecordAudit(at=registry.now, kind="tpp:device:push-gone", actor=None, subject=dave, data={"status": 410})
    DatabaseAuditLog(registry.session).record(gone)
    registry.session.commit()
    requests: dict[str, set[str]] = {}
    for record in registry.session.scalars(select(RequestRecord)):
        requests.setdefault(record.project or record.policy.scope_value, set()).add(f"request:{record.id}")
    return Story(requests=requests, dave_device=dave)


def expected(registry: Registry, keep: Callable[[AuditRecord], bool]) -> list[int]:
    """The sequence numbers of the entries ``keep`` keeps, newest first, as the page lists them."""
    return [r.seq for r in reversed(records(registry)) if keep(r)]


def about(subjects: set[str]) -> Callable[[AuditRecord], bool]:
    """Whether an entry is about one of ``subjects``."""
    return lambda record: record.subject in subjects


def test_a_project_keeps_its_policy_and_the_entries_of_its_requests(app: TestApp, registry: Registry) -> None:
    told = story(registry)
    assert len(told.requests["acme"]) == 2  # the release and the pending change of its policy
    login(app, "bob")
    for project in ("acme", "beta", "acme-cli"):
        keep = told.requests[project] | {f"policy:{project}"}
        assert seqs(app.get(AUDIT, {"project": project})) == expected(registry, about(keep))
    # A prefix (written as its policy's subject is) keeps its policy and the requests it governs.
    prefix = told.requests["acme-cli"] | {"policy:acme-*"}
    page = app.get(AUDIT, {"project": "acme-*"})
    assert seqs(page) == expected(registry, about(prefix))
    assert sentences(page)[0] == "ci uploaded acme-cli 0.1, which now awaits approval"
    assert seqs(app.get(AUDIT, {"project": "Acme"})) == seqs(app.get(AUDIT, {"project": "acme"}))  # canonical
    assert app.get(AUDIT, {"project": "nothing"}).html.find(id="no-entries") is not None


def test_a_person_keeps_what_they_did_and_what_was_done_about_them(app: TestApp, registry: Registry) -> None:
    told = story(registry)
    login(app, "bob")
    page = app.get(AUDIT, {"person": "dave"})

    def about_dave(r: AuditRecord) -> bool:
        return "dave" in (r.actor, r.data.get("person")) or r.subject in ("person:dave", told.dave_device)

    assert seqs(page) == expected(registry, about_dave)
    listed = sentences(page)
    for sentence in (
        "The push service stopped delivering to the device 'phone'; its notifications are off",
        "lead vouched for dave to add a new device",
        "lead invited dave to approve for acme",
        "dave accepted the invitation to approve for acme",
        "dave added the device 'phone' (their first device)",
    ):
        assert sentence in listed


def test_a_kind_keeps_its_entries(app: TestApp, registry: Registry) -> None:
    story(registry)
    login(app, "bob")
    page = app.get(AUDIT, {"kind": "tpp:request:approval"})
    assert seqs(page) == expected(registry, lambda r: r.kind == "tpp:request:approval")
    assert len(seqs(page)) == 3
    assert app.get(AUDIT, {"kind": "tpp:mirror:synced"}).html.find(id="no-entries") is not None


def test_filters_combine(app: TestApp, registry: Registry) -> None:
    told = story(registry)
    login(app, "bob")
    query = {"project": "acme", "person": "cora", "kind": "tpp:request:approval"}
    page = app.get(AUDIT, query)
    acme = told.requests["acme"]
    assert seqs(page) == expected(
        registry, lambda r: r.subject in acme and r.actor == "cora" and r.kind == "tpp:request:approval"
    )
    assert sentences(page) == ["cora approved acme 1.0 with the device 'phone'"]  # not her approval of beta
    summary = " ".join(page.html.find(id="audit-summary").text.split())
    assert summary == "1 entry matches: project acme, person cora, kind tpp:request:approval."
    assert page.html.find(id="chain")["data-chain"] == "intact"  # the whole chain is still checked


def test_paging_keeps_the_filters(app: TestApp, registry: Registry) -> None:
    log = DatabaseAuditLog(registry.session)
    for n in range(1, 151):
        kind = "tpp:test:other" if n % 3 == 0 else "tpp:test:entry"
        actor = PersonId("bob") if n % 2 else None
        log.record(RecordAudit(at=registry.now, kind=kind, actor=actor, subject=f"thing:{n}", data={"n": n}))
    registry.session.commit()
    login(app, "bob")
    bobs = [n for n in range(150, 0, -1) if n % 2]  # 75 entries: two pages
    first = app.get(AUDIT, {"person": "bob"})
    assert seqs(first) == bobs[:50]
    assert "Page 1 of 2" in first.text
    second = first.click("Older")
    assert second.request.GET.mixed() == {"person": "bob", "page": "2"}
    assert seqs(second) == bobs[50:]
    assert "Older" not in second.text
    assert seqs(second.click("Newer")) == bobs[:50]
    both = app.get(AUDIT, {"person": "bob", "kind": "tpp:test:entry", "page": "2"})
    narrowed = [n for n in bobs if n % 3]  # 50 entries: one page
    assert (len(narrowed), seqs(both)) == (50, [])
    assert seqs(app.get(AUDIT, {"person": "bob", "kind": "tpp:test:entry"})) == narrowed


def test_the_form_shows_the_filters_as_they_took_effect(app: TestApp, registry: Registry) -> None:
    activity(registry)
    login(app, "bob")
    page = app.get(AUDIT, {"project": "Acme_Tools", "person": "", "kind": "tpp:mirror:synced"})
    form = page.forms["audit-filters"]
    assert form.method.upper() == "GET"
    assert "csrf_token" not in form.fields  # reading changes nothing: a plain GET form
    assert (form["project"].value, form["person"].value, form["kind"].value) == ("acme-tools", "", "tpp:mirror:synced")
    summary = " ".join(page.html.find(id="audit-summary").text.split())
    assert summary == "0 entries match: project acme-tools, kind tpp:mirror:synced."
    assert page.html.find(id="clear-filters")["href"] == "/tpp/audit"
    choices = [option["value"] for option in page.html.select("select[name=kind] optgroup option")]
    assert "tpp:request:approval" in choices
    form["project"], form["kind"] = "", "tpp:policy:applied"
    assert sentences(form.submit()) == ["lead put version 1 of the policy of acme in force"]
    assert app.get(AUDIT).html.find(id="clear-filters") is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"project": "-acme-"}, "invalid project name: '-acme-'"),
        ({"project": "acme*-*"}, "invalid project name prefix: 'acme*-'"),
        ({"project": "a" * 256}, "project must be at most 255 characters long"),
        ({"person": "bob smith"}, "invalid person id: 'bob smith'"),
        ({"person": "b" * 101}, "person must be at most 100 characters long"),
        ({"kind": "approvals"}, "kind must read like 'tpp:request:approval', got 'approvals'"),
        ({"kind": "tpp:request:" + "x" * 60}, "kind must be at most 64 characters long"),
        ({"subject": "s" * 256}, "subject must be at most 255 characters long"),
        ({"person": "bob", "page": "0"}, "page must be a whole number of at least 1, got '0'"),
    ],
    ids=["project", "prefix", "long-project", "person", "long-person", "kind", "long-kind", "long-subject", "page"],
)
def test_a_bad_filter_is_a_400_naming_it(app: TestApp, query: dict[str, str], message: str) -> None:
    login(app, "bob")
    page: Any = app.get(AUDIT, query, status=400)
    assert page.html.find("p", class_="error").text.strip().endswith(message)
    assert not page.html.select("tr.audit-entry")
