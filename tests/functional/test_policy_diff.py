"""A policy change's diff against the policy in force: :func:`policy_diff` and the
``_policy_diff.jinja2`` macro the change request's page includes, rendered by the app's own
Jinja2 environment (where the ``tpp_policy_diff`` filter is registered)."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from pyramid_jinja2 import IJinja2Environment

from tests.common.scenario import brief_policy, group
from tpp_core import ApprovalGroup
from tpp_warehouse.views.policy_diff import GroupChange, policy_diff

INCLUDE = '{% from "tpp_warehouse:templates/tpp/_policy_diff.jinja2" import policy_diff %}'


def rendered(module_app: Any, in_force: tuple[ApprovalGroup, ...], proposed: tuple[ApprovalGroup, ...]) -> Any:
    environment = module_app.registry.getUtility(IJinja2Environment, name=".jinja2")
    html = environment.from_string(INCLUDE + "{{ policy_diff(in_force, proposed) }}").render(
        in_force=in_force, proposed=proposed
    )
    return BeautifulSoup(html, "html.parser").find(id="policy-diff")


def lines(section: Any, kind: str) -> list[str]:
    return [" ".join(item.text.split()) for item in section.select(f"li.diff-{kind}")]


def test_groups_added_removed_and_changed() -> None:
    before = brief_policy().groups  # lead; core-team (bob, cora, lead - lead); company (cora, dave, lead - lead)
    after = (
        group("lead", "lead"),
        group("core-team", "lead", "cora", "erin", "fay", seats=2, excluded=("lead", "cora"), no_uploader=False),
        group("security", "erin"),
    )
    diff = policy_diff(before, after)
    assert [g.name for g in diff.added] == ["security"]
    assert [g.name for g in diff.removed] == ["company"]
    assert diff.changed == (
        GroupChange(
            name="core-team",
            seats=(1, 2),
            members_added=("erin", "fay"),
            members_removed=("bob",),
            not_counted_added=("cora",),
        ),
    )
    assert diff.unchanged == ("lead",)
    assert not diff.empty


def test_the_same_groups_make_an_empty_diff() -> None:
    diff = policy_diff(brief_policy().groups, brief_policy(version=2).groups)
    assert diff.empty
    assert diff.unchanged == ("lead", "core-team", "company")


def test_the_macro_says_each_change_in_the_group_tables_words(module_app: Any) -> None:
    before = (group("lead", "lead"), group("team", "lead", "bob", "cora", excluded=("bob",), no_uploader=True))
    after = (group("team", "lead", "bob", "cora", seats=2), group("security", "erin", "fay", no_uploader=True))
    section = rendered(module_app, before, after)
    assert lines(section, "added") == ["Added group security: 1 seat; members erin, fay; not counted: the uploader"]
    assert lines(section, "removed") == ["Removed group lead (1 seat; members lead)"]
    [changed] = section.select("li.diff-changed")
    assert [" ".join(li.text.split()) for li in changed.select("li")] == [
        "seats 1 → 2",
        "counted again: bob",
        "the uploader is counted again",
    ]
    assert section.find(id="diff-none") is None


def test_the_macro_says_when_the_groups_stay(module_app: Any) -> None:
    section = rendered(module_app, brief_policy().groups, brief_policy(version=2).groups)
    assert section.find(id="diff-none").text == "The groups stay as they are in the policy in force."
