"""The audit log in real Chromium, on the Warehouse-shaped host: its filters (a form of GET
parameters that combine), the whole width of a desktop, and a 390 px phone without sideways
scrolling, recorded digests opened. Writes the owner's guide's audit-desktop and audit-phone
screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.common.scenario import group, wheel
from tpp_core import Policy, Scope

from .warehouse import Host

pytestmark = [pytest.mark.service, pytest.mark.browser]


def history(host: Host) -> None:
    """Devices, two projects' policies, and acme 1.0 approved by lead and cora, 2.0 rejected by cora."""
    registry = host.world.registry
    registry.enrol("lead", "cora", "dave")
    for project, members in (("acme", ("lead", "cora")), ("beta", ("lead", "dave"))):
        registry.set_policy(
            Policy(scope=Scope.project(project), version=1, groups=(group("maintainers", *members, seats=2),))
        )
        registry.tick(timedelta(minutes=7))
    approved = registry.upload("acme", "1.0", wheel("acme-1.0-py3-none-any.whl", 1, 48_213))
    assert approved is not None
    for approver in ("lead", "cora"):
        registry.tick(timedelta(minutes=12))
        registry.approve(approved.id, approver)
    registry.tick(timedelta(hours=3))
    rejected = registry.upload("acme", "2.0", wheel("acme-2.0.tar.gz", 2, 51_870))
    assert rejected is not None
    registry.tick(timedelta(minutes=4))
    registry.reject(rejected.id, "cora", "not a release we made")
    registry.session.commit()


def shown(page: Page) -> list[str]:
    """The sentences of the entries the page lists."""
    return page.locator("tr.audit-entry .audit-sentence").all_inner_texts()


def choose(page: Page, *, project: str | None = None, person: str | None = None, kind: str | None = None) -> None:
    """Fill in the filter form as a person does (a kind by its name in the list), and submit it."""
    for name, value in (("project", project), ("person", person)):
        if value is not None:
            page.fill(f"#audit-filters input[name={name}]", value)
    if kind is not None:
        page.select_option("#audit-filters select[name=kind]", label=kind)
    page.click("#audit-filters button[type=submit]")


def test_the_filters_narrow_the_log_and_the_table_uses_the_width(host: Host, chromium: Browser) -> None:
    history(host)
    lead = host.person(chromium, "lead")
    page = lead.open("/audit")
    expect(page.locator("#chain")).to_contain_text("Chain verified: 15 entries, intact (head ")
    assert len(shown(page)) == 15

    choose(page, project="acme", kind="Approvals")
    expect(page.locator("#audit-summary")).to_have_text("2 entries match: project acme, kind tpp:request:approval.")
    assert shown(page) == [
        "cora approved acme 1.0 with the device 'phone'",
        "lead approved acme 1.0 with the device 'phone'",
    ]
    assert page.url.endswith("/audit?project=acme&person=&kind=tpp%3Arequest%3Aapproval")  # a plain GET form

    choose(page, person="cora", kind="Every kind")
    expect(page.locator("#audit-summary")).to_contain_text("project acme, person cora.")
    assert shown(page) == [
        "cora rejected acme 2.0 with the device 'phone'",
        "cora approved acme 1.0 with the device 'phone'",
        "cora accepted the invitation to approve for acme",
        "lead invited cora to approve for acme",
    ]
    expect(page.locator("#audit-filters input[name=project]")).to_have_value("acme")  # the form keeps them

    # A person's name in a sentence lists what that person did and what was done about them.
    page.locator("tr.audit-entry a.person", has_text="lead").first.click()
    expect(page.locator("#audit-summary")).to_contain_text(": person lead.")
    expect(page.locator("#audit-filters input[name=project]")).to_have_value("")

    page.click("#clear-filters")
    assert len(shown(page)) == 15
    main, table = (page.locator(s).bounding_box() for s in ("main", "#audit"))
    assert main is not None
    assert table is not None
    assert table["width"] > 52 * 16  # wider than the other pages' column
    assert table["width"] >= main["width"] - 2 * 16 - 1  # all of main but its padding
    assert lead.fits()
    choose(page, project="acme")
    page.locator("tr.audit-entry details.audit-record").first.locator("summary").click()
    lead.screenshot("audit-desktop")
    assert lead.page_errors == []
    lead.close()


def test_a_phone_shows_each_entry_as_a_card_without_scrolling_sideways(host: Host, chromium: Browser) -> None:
    history(host)
    phone = host.person(chromium, "cora", phone=True)
    page = phone.open("/audit?project=acme&person=cora")
    entries = page.locator("tr.audit-entry")
    expect(entries).to_have_count(4)
    expect(page.locator("#audit thead")).to_be_hidden()  # cards, not columns
    first = entries.first
    expect(first.locator(".audit-sentence")).to_have_text("cora rejected acme 2.0 with the device 'phone'")
    expect(first.locator(".audit-what > dl.audit-facts")).to_contain_text("not a release we made")
    first.locator("details.audit-record summary").click()
    expect(first.locator("details.audit-record")).to_contain_text("Hash")  # a 64-digit digest, wrapped
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width == [390, 390]
    phone.screenshot("audit-phone")
    assert phone.page_errors == []
    phone.close()
