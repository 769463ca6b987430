"""What a policy change changes: groups added, removed and changed (seats, members, who is not
counted), for the change request's page. Templates call it as the ``tpp_policy_diff`` filter::

    {% set diff = in_force_groups | tpp_policy_diff(proposed_groups) %}

Groups are matched by name, as people read them: a renamed group is one removed and one added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tpp_core import ApprovalGroup, PersonId

from .display import register_filter

__all__ = ["GroupChange", "PolicyDiff", "includeme", "policy_diff"]

#: The filter's name in the templates; prefixed, because a host's environment has filters of its own.
FILTER = "tpp_policy_diff"


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupChange:
    """How one group that both policies name differs; empty fields did not change."""

    name: str
    seats: tuple[int, int] | None = None  # (in force, proposed)
    members_added: tuple[PersonId, ...] = ()
    members_removed: tuple[PersonId, ...] = ()
    not_counted_added: tuple[PersonId, ...] = ()
    not_counted_removed: tuple[PersonId, ...] = ()
    uploader_not_counted: bool | None = None  # the proposed value, when it changes


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDiff:
    """The groups a proposed policy adds, removes and changes, in the proposed (then current) order."""

    added: tuple[ApprovalGroup, ...]
    removed: tuple[ApprovalGroup, ...]
    changed: tuple[GroupChange, ...]
    unchanged: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when the groups are the same (a change may still only renumber the version)."""
        return not (self.added or self.removed or self.changed)


def policy_diff(in_force: Sequence[ApprovalGroup], proposed: Sequence[ApprovalGroup]) -> PolicyDiff:
    """Compare the groups of the policy in force with those of a proposed one.

    >>> from tpp_core import ApprovalGroup
    >>> lead = ApprovalGroup(name="lead", members=frozenset({"ann"}))
    >>> team = ApprovalGroup(name="team", members=frozenset({"ann", "bob"}), seats=2)
    >>> diff = policy_diff([lead], [lead, team])
    >>> [g.name for g in diff.added], diff.removed, diff.changed, diff.unchanged
    (['team'], (), (), ('lead',))

    :raises: nothing.
    """
    before = {group.name.casefold(): group for group in in_force}
    after = {group.name.casefold(): group for group in proposed}
    changed, unchanged = [], []
    for key, new in after.items():
        old = before.get(key)
        if old is None:
            continue
        change = _compare(old, new)
        if change is None:
            unchanged.append(new.name)
        else:
            changed.append(change)
    return PolicyDiff(
        added=tuple(g for k, g in after.items() if k not in before),
        removed=tuple(g for k, g in before.items() if k not in after),
        changed=tuple(changed),
        unchanged=tuple(unchanged),
    )


def _compare(old: ApprovalGroup, new: ApprovalGroup) -> GroupChange | None:
    if old == new:
        return None
    return GroupChange(
        name=new.name,
        seats=None if old.seats == new.seats else (old.seats, new.seats),
        members_added=tuple(sorted(new.members - old.members)),
        members_removed=tuple(sorted(old.members - new.members)),
        not_counted_added=tuple(sorted(new.excluded - old.excluded)),
        not_counted_removed=tuple(sorted(old.excluded - new.excluded)),
        uploader_not_counted=None if old.exclude_uploader == new.exclude_uploader else new.exclude_uploader,
    )


def includeme(config: Any) -> None:
    register_filter(config, FILTER, policy_diff)
