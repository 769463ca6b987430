"""Journey J3 on the Warehouse-shaped host, served under waitress on loopback, in real Chromium:
first devices enrolled in the browser, a release approved by two people in two browsers, another
rejected by one of them (I2, I4, I7); the policy's form editor: a group added, members picked, a
refused draft explained by the registry's check as it is written, the first policy saved, and the
page at phone width without sideways scrolling. The JSON editor is walked on devpi (test_devpi.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.common.scenario import group
from tests.warehouse.dists import wheel
from tests.warehouse_host.models import Project, Role, User
from tpp_core import Policy, Scope

from .warehouse import Host

pytestmark = [pytest.mark.service, pytest.mark.browser]


def test_two_people_approve_in_their_browsers_and_one_rejects(host: Host, chromium: Browser) -> None:
    lead, cora = host.person(chromium, "lead"), host.person(chromium, "cora")
    for person in (lead, cora):
        expect(person.enrol("laptop").locator("#devices")).to_contain_text("first device")
    policy = Policy(scope=Scope.project("acme"), version=1, groups=(group("maintainers", "lead", "cora", seats=2),))
    host.world.registry.set_policy(policy, by="lead")
    host.world.registry.session.commit()

    request_id = host.world.request_of(host.world.upload(wheel("acme", "1.0")))
    page = lead.decide(request_id, "approve")
    expect(page.locator("#state")).to_have_text("verifying")
    assert "acme-1.0-py3-none-any.whl" not in host.simple()
    page = cora.decide(request_id, "approve")
    expect(page.locator("#state")).to_have_text("approved")
    expect(page.locator("#decisions")).to_contain_text("lead")
    assert "acme-1.0-py3-none-any.whl" in host.simple()

    request_id = host.world.request_of(host.world.upload(wheel("acme", "2.0")))
    page = cora.decide(request_id, "reject", reason="unexpected upload")
    expect(page.locator("#state")).to_have_text("rejected")
    assert "acme-2.0-py3-none-any.whl" not in host.simple()
    expect(lead.open(f"/requests/{request_id}").locator("#decide")).to_have_count(0)
    for person in (lead, cora):
        assert person.page_errors == []
        person.close()


def test_the_form_editor_explains_a_refused_draft_live_then_saves_the_first_policy(
    host: Host, chromium: Browser
) -> None:
    acme = Scope.project("acme")
    with Session(host.world.engine) as session, session.begin():  # lead registers acme, as before an upload
        lead_user = session.scalars(select(User).where(User.username == "lead")).one()
        project = Project(name="acme", normalized_name="acme")
        session.add_all([project, Role(user=lead_user, project=project, role_name="Owner")])
    host.world.registry.invite(acme, "bob", "cora")
    host.world.registry.session.commit()
    lead = host.person(chromium, "lead")
    lead.enrol("laptop")  # the session is confirmed by the new device: it may save
    page = lead.open("/policies/project/acme")
    expect(page.locator("#policy-advanced")).not_to_have_attribute("open", "")  # JSON one click away
    groups = page.locator("#builder-groups fieldset.group-editor")
    expect(groups).to_have_count(1)  # the starter: lead alone
    verdict = page.locator("#policy-check")
    expect(verdict).to_contain_text("Saving puts version 1 in force at once.")
    expect(page.locator("#policy-submit")).to_have_text("Save")

    page.click("#add-group")
    security = groups.nth(1)
    security.locator(".group-name").fill("security")
    security.locator(".members").get_by_label("bob").check()
    security.locator(".group-seats").fill("2")
    # Two seats but one member: the registry's check says why, without a reload.
    expect(verdict).to_have_class("check error")
    expect(verdict).to_contain_text(
        "Refused: group 'security' needs 2 approver(s) but only 1 eligible member(s) remain once exclusions apply"
    )
    security.locator(".members").get_by_label("cora").check()
    expect(verdict).to_have_class("check ok")
    expect(verdict).to_contain_text("security: bob, cora")
    # Not counting the uploader: if bob or cora uploads, one member is left for two seats.
    security.locator(".not-counted").get_by_label("the uploader").check()
    expect(verdict).to_contain_text("Refused: group 'security' needs 2 approver(s)")
    # With lead in security too, lead's one seat cannot go to both groups when bob uploads.
    security.locator(".members").get_by_label("lead").check()
    expect(verdict).to_contain_text("could not be filled when")
    security.locator(".not-counted").get_by_label("the uploader").uncheck()
    expect(verdict).to_have_class("check ok")
    expect(verdict).to_contain_text("owners: lead")
    lead.screenshot("policy-editor")

    page.click("#policy-submit")
    expect(page.locator("#in-force")).to_contain_text("Version 1")
    expect(page.get_by_role("status").filter(has_text="now in force")).to_have_text(
        "Version 1 of the policy of acme is now in force."
    )
    expect(page.locator("tr.policy-group")).to_have_count(2)
    expect(page.locator("#policy-submit")).to_have_text("Propose")
    host.world.registry.session.rollback()
    assert host.world.registry.policies.current(acme) == Policy(
        scope=acme,
        version=1,
        groups=(
            group("owners", "lead"),
            group("security", "bob", "cora", "lead", seats=2),
        ),
    )

    phone = host.person(chromium, "lead", phone=True)
    page = phone.open("/policies/project/acme")
    expect(page.locator("#policy-check")).to_contain_text("Proposing opens a change request")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width == [390, 390]
    phone.screenshot("policy-editor-phone")
    for person in (lead, phone):
        assert person.page_errors == []
        person.close()
