"""The approval page's feedback and safety: a notice after each decision or withdrawal says what it
did; reject and withdraw ask first (``data-confirm``, read by the page's scripts); a decided page
says what happened to the files and when, hides the expiry, and names each decision's device as it
was named when it signed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import T0, group
from tests.common.webapp import WebHost
from tests.functional.test_approval_pages import SDIST, WHEEL, World, facts, table
from tpp_core import ApprovalRequest, PersonId, Policy, Scope
from tpp_warehouse.request_store import RequestStore
from tpp_warehouse.views.display import when


@pytest.fixture
def world(app: TestApp, registry: Registry, host: WebHost) -> World:
    world = World(app, registry, host)
    world.policy(
        Policy(scope=Scope.project("acme"), version=1, groups=(group("maintainers", "lead", "cora", seats=2),))
    )
    for name in ("lead", "cora"):
        world.person(name)
    return world


@pytest.fixture
def release(world: World) -> ApprovalRequest:
    return world.upload("1.0", WHEEL, SDIST)


def notices(page: object) -> list[str]:
    return [p.get_text(" ", strip=True) for p in page.html.select("p.flash")]  # type: ignore[attr-defined]


def test_each_approval_says_what_it_did(world: World, release: ApprovalRequest) -> None:
    world.approve("lead", release.id)
    page = world.page("lead", release.id)
    assert notices(page) == ["You approved the request. It still waits: maintainers needs 1 more; eligible: cora."]
    assert notices(world.page("lead", release.id)) == []  # once
    world.approve("cora", release.id)
    page = world.page("cora", release.id)
    assert notices(page) == ["You approved the request: every group is filled and the release is published."]


def test_a_decided_page_says_when_the_files_were_published_and_with_which_devices(
    world: World, release: ApprovalRequest
) -> None:
    world.approve("lead", release.id)
    world.registry.tick(timedelta(minutes=5))  # the second approval comes later
    world.approve("cora", release.id)
    page = world.page("lead", release.id)
    assert "Expires" not in facts(page)
    assert facts(page)["Published"] == when(T0 + timedelta(minutes=5))
    outcome = " ".join(page.html.select_one("#outcome").text.split())
    assert outcome == (
        f"Every group was filled: the files below are public since {when(T0 + timedelta(minutes=5))},"
        " and installers can download them."
    )
    assert [row[:3] for row in table(page, "decisions")] == [
        ["lead", "approve", "lead's phone"],
        ["cora", "approve", "cora's phone"],
    ]


def test_a_rejection_asks_first_then_says_the_files_were_deleted_and_when(
    world: World, release: ApprovalRequest
) -> None:
    button = world.page("lead", release.id).html.select_one("button[data-verdict=reject]")
    assert button["data-confirm"] == (
        "Reject acme 1.0? This ends the request for everyone and deletes its files; it cannot be undone."
    )
    world.decide("cora", release.id, world.sign("cora", release.id, "reject"))
    page = world.page("cora", release.id)
    assert notices(page) == ["You rejected the request: it is rejected and its files were deleted."]
    assert "Expires" not in facts(page)
    assert facts(page)["Rejected"].endswith(" UTC")
    outcome = " ".join(page.html.select_one("#outcome").text.split())
    assert outcome.startswith(f"The files below were deleted on {facts(page)['Rejected']}: nobody can install them")
    assert table(page, "decisions")[0][:3] == ["cora", "reject", "cora's phone"]


def test_a_withdrawal_asks_first_and_says_what_it_did(world: World, release: ApprovalRequest) -> None:
    page = world.page("cora", release.id)  # cora owns acme (the test host says so)
    form = page.html.select_one(f"form[action='/tpp/requests/{release.id}/cancel']")
    assert form["data-confirm"] == (
        "Withdraw acme 1.0? This ends the request for everyone and deletes its files; it cannot be undone."
    )
    answer = world.page("cora", release.id).forms["withdraw"].submit(status=303).follow()
    assert notices(answer) == ["The request was withdrawn and its files deleted."]
    assert facts(answer)["Cancelled"] == when(T0)


def test_a_decision_keeps_the_name_its_device_had_when_it_signed(world: World, release: ApprovalRequest) -> None:
    world.approve("lead", release.id)
    lead = PersonId("lead")
    [device] = world.registry.devices.devices(lead)
    world.registry.devices.rename(lead, device.id, "old phone", world.registry.now)
    world.registry.session.commit()
    assert table(world.page("cora", release.id), "decisions")[0][:3] == ["lead", "approve", "lead's phone"]
    world.registry.devices.remove(lead, device.id, world.registry.now)
    world.registry.session.commit()
    assert table(world.page("cora", release.id), "decisions")[0][:3] == ["lead", "approve", "lead's phone"]


def test_a_decision_from_before_names_were_recorded_says_so(world: World, release: ApprovalRequest) -> None:
    world.approve("lead", release.id)
    [decision] = RequestStore(world.registry.session).record(release.id).decisions
    decision.device_name = None  # as migration 0005 leaves it when the device was gone already
    world.registry.session.commit()
    assert table(world.page("cora", release.id), "decisions")[0][:3] == ["lead", "approve", "not recorded"]
