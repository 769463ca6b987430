"""Policies: scopes, groups, validation that names the problem, lockout refusal, and the dict form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.scenario import brief_policy, group
from tpp_core import (
    InvalidInput,
    InvalidPolicy,
    Policy,
    Scope,
    ScopeKind,
    canonicalize_project,
    select_policy,
)


def policy(*groups: Any, scope: Scope | None = None, version: int = 1) -> Policy:
    return Policy(scope=scope or Scope.project("acme"), version=version, groups=groups)


class TestScope:
    @pytest.mark.parametrize(
        ("scope", "project", "matches"),
        [
            (Scope.project("acme"), "acme", True),
            (Scope.project("Acme_Tools"), "acme-tools", True),
            (Scope.project("acme"), "acme-cli", False),
            (Scope.prefix("acme-"), "acme-cli", True),
            (Scope.prefix("Acme_"), "acme-cli", True),
            (Scope.prefix("acme-"), "acme", False),
            (Scope.prefix("acme"), "acmeish", True),
        ],
    )
    def test_matches(self, scope: Scope, project: str, matches: bool) -> None:
        assert scope.matches(canonicalize_project(project)) is matches

    def test_str(self) -> None:
        assert str(Scope.project("Acme")) == "acme"
        assert str(Scope.prefix("acme-")) == "acme-*"

    @pytest.mark.parametrize("value", ["Acme", "acme__x"])
    def test_non_canonical_value_refused(self, value: str) -> None:
        with pytest.raises(InvalidInput, match="not canonical"):
            Scope(kind=ScopeKind.PROJECT, value=value)

    def test_prefix_constructor_validates(self) -> None:
        with pytest.raises(InvalidInput, match="prefix"):
            Scope.prefix("-acme")

    def test_specificity_orders_project_over_longest_prefix(self) -> None:
        ordered = sorted([Scope.prefix("a"), Scope.project("ab"), Scope.prefix("ab-")], key=lambda s: s.specificity)
        assert [str(s) for s in ordered] == ["a*", "ab-*", "ab"]


class TestSelectPolicy:
    def test_most_specific_wins(self) -> None:
        owners = group("owners", "ann")
        wide = policy(owners, scope=Scope.prefix("acme"))
        narrow = policy(owners, scope=Scope.prefix("acme-web-"))
        own = policy(owners, scope=Scope.project("acme-web-ui"))
        candidates = [wide, own, narrow]
        assert select_policy(candidates, canonicalize_project("acme-web-ui")) is own
        assert select_policy(candidates, canonicalize_project("acme-web-api")) is narrow
        assert select_policy(candidates, canonicalize_project("acme-cli")) is wide
        assert select_policy(candidates, canonicalize_project("other")) is None


class TestGroupValidation:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"name": ""}, "invalid group name ''"),
            ({"name": "a/b"}, "invalid group name 'a/b'"),
            ({"name": "x" * 65}, "invalid group name"),
            ({"seats": 0}, "group 'g': seats must be a whole number of at least 1, got 0"),
            ({"seats": -1}, "seats must be a whole number"),
            ({"seats": True}, "seats must be a whole number"),
            ({"seats": 1.5}, "seats must be a whole number"),
            ({"members": frozenset()}, "group 'g' has no members"),
            ({"members": ["ann"]}, "members must be a frozenset"),
            ({"members": frozenset({"bad name"})}, "group 'g': members: invalid person id: 'bad name'"),
            ({"excluded": frozenset({"zed"})}, "group 'g' excludes zed, who is not a member"),
            (
                {"seats": 2, "excluded": frozenset({"ann"})},
                "group 'g' needs 2 approver\\(s\\) but only 1 eligible member\\(s\\) remain once exclusions apply$",
            ),
            (
                {"seats": 2, "exclude_uploader": True},
                "needs 2 approver\\(s\\) but only 1 eligible member\\(s\\) remain .*, if the uploader is one of them",
            ),
        ],
    )
    def test_refused_with_a_message_naming_the_group(self, kwargs: dict[str, Any], message: str) -> None:
        fields: dict[str, Any] = {"name": "g", "members": frozenset({"ann", "bob"})} | kwargs
        from tpp_core import ApprovalGroup

        with pytest.raises(InvalidPolicy, match=message):
            ApprovalGroup(**fields)

    def test_eligible_applies_exclusions(self) -> None:
        g = group("core", "ann", "bob", "cy", excluded=("ann",), no_uploader=True)
        assert g.eligible(None) == {"bob", "cy"}
        assert g.eligible("bob") == {"cy"}
        assert group("core", "ann", "bob").eligible("bob") == {"ann", "bob"}


class TestPolicyValidation:
    def test_no_groups(self) -> None:
        with pytest.raises(InvalidPolicy, match="at least one approval group"):
            policy()

    def test_groups_must_be_a_tuple(self) -> None:
        with pytest.raises(InvalidPolicy, match="at least one approval group"):
            Policy(scope=Scope.project("acme"), version=1, groups=[group("g", "ann")])  # type: ignore[arg-type]

    @pytest.mark.parametrize("version", [0, -3, True, "1"])
    def test_bad_version(self, version: Any) -> None:
        with pytest.raises(InvalidPolicy, match="policy version must be a whole number"):
            policy(group("g", "ann"), version=version)

    def test_duplicate_group_names_ignore_case(self) -> None:
        with pytest.raises(InvalidPolicy, match="two groups are named 'Core'"):
            policy(group("core", "ann"), group("Core", "bob"))

    def test_lockout_across_groups_is_refused(self) -> None:
        """Each group alone is fine, but two seats need two people and only Ann is eligible for both."""
        with pytest.raises(InvalidPolicy, match=r"need 2 distinct approvers.*'b' could not be filled$"):
            policy(group("a", "ann"), group("b", "ann"))

    def test_lockout_caused_by_a_particular_uploader_is_refused(self) -> None:
        """If Bob uploads, "reviewers" (no uploader) leaves only Cy, who is also the only "qa" member."""
        with pytest.raises(InvalidPolicy, match="could not be filled when bob uploads"):
            policy(group("reviewers", "bob", "cy", no_uploader=True), group("qa", "cy", "bob", excluded=("bob",)))

    def test_uploader_exclusion_that_leaves_room_is_accepted(self) -> None:
        p = policy(group("reviewers", "bob", "cy", "dan", no_uploader=True), group("qa", "cy", "dan"))
        assert p.people == {"bob", "cy", "dan"}

    def test_brief_example_is_valid(self) -> None:
        p = brief_policy()
        assert [g.name for g in p.groups] == ["lead", "core-team", "company"]
        assert p.groups_of("cora", "lead") == (1, 2)
        assert p.groups_of("lead", "lead") == (0,)
        assert p.groups_of("stranger", None) == ()

    def test_groups_of_drops_uploader_excluding_groups_for_the_uploader(self) -> None:
        p = policy(group("owners", "ann", "bob"), group("review", "ann", "bob", "cy", no_uploader=True))
        assert p.groups_of("ann", "ann") == (0,)
        assert p.groups_of("ann", "bob") == (0, 1)


GOOD: dict[str, Any] = {
    "scope": {"kind": "prefix", "value": "acme-"},
    "version": 2,
    "groups": [
        {"name": "lead", "members": ["ann"]},
        {"name": "core", "members": ["ann", "bob", "cy"], "seats": 1, "excluded": ["ann"], "exclude_uploader": True},
    ],
}


class TestDictForm:
    def test_round_trip(self) -> None:
        p = Policy.from_dict(GOOD)
        assert p.to_dict() == {
            "scope": {"kind": "prefix", "value": "acme-"},
            "version": 2,
            "groups": [
                {"name": "lead", "members": ["ann"], "seats": 1, "exclude_uploader": False, "excluded": []},
                {
                    "name": "core",
                    "members": ["ann", "bob", "cy"],
                    "seats": 1,
                    "exclude_uploader": True,
                    "excluded": ["ann"],
                },
            ],
        }
        assert Policy.from_dict(p.to_dict()) == p

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda d: "not a dict", "policy: expected an object, got 'not a dict'"),
            (lambda d: {k: v for k, v in d.items() if k != "groups"}, "policy: missing groups"),
            (lambda d: d | {"extra": 1}, "policy: unknown field\\(s\\) extra"),
            (lambda d: d | {"scope": {"kind": "team", "value": "x"}}, "scope.kind: expected 'project' or 'prefix'"),
            (lambda d: d | {"scope": {"kind": "project", "value": "no way"}}, "scope.value: invalid project name"),
            (lambda d: d | {"scope": {"kind": "project"}}, "scope: missing value"),
            (lambda d: d | {"groups": {"lead": ["ann"]}}, "groups: expected a list"),
            (lambda d: d | {"groups": [{"name": "lead"}]}, "groups\\[0\\]: missing members"),
            (lambda d: d | {"groups": [{"name": "lead", "members": "ann"}]}, "groups\\[0\\].members: expected a list"),
            (
                lambda d: d | {"groups": [{"name": "lead", "members": ["ann", 7]}]},
                "groups\\[0\\].members: invalid person id: 7",
            ),
            (
                lambda d: d | {"groups": [{"name": "l", "members": ["ann"], "exclude_uploader": "yes"}]},
                "groups\\[0\\].exclude_uploader: expected true or false",
            ),
            (lambda d: d | {"groups": [{"name": "l", "members": ["ann"], "seats": 2}]}, "group 'l' needs 2"),
            (lambda d: d | {"version": "2"}, "policy version must be a whole number"),
        ],
    )
    def test_malformed_input_names_the_field(self, change: Any, message: str) -> None:
        with pytest.raises(InvalidPolicy, match=message):
            Policy.from_dict(change(GOOD))
