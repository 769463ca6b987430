"""Quorum: which approvers fill which seats, and what is still missing.

Seats are assigned by a maximum bipartite matching between approvers and group seats, so a person in two
groups fills one seat only, and a matching that a greedy pass would miss (Ann sits in "core" but is the
only one who could sit in "lead") is still found.

>>> from tpp_core.policy import ApprovalGroup, Policy, Scope
>>> lead = ApprovalGroup(name="lead", members=frozenset({"ann"}))
>>> core = ApprovalGroup(name="core", members=frozenset({"ann", "bob", "cy"}), excluded=frozenset({"ann"}))
>>> policy = Policy(scope=Scope.project("acme"), version=1, groups=(lead, core))
>>> print(evaluate(policy, uploader="ann", approvers=["ann"]))
core needs 1 more; eligible: bob, cy
>>> evaluate(policy, uploader="ann", approvers=["ann", "cy"]).seats
{'lead': ('ann',), 'core': ('cy',)}
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from .identifiers import PersonId

if TYPE_CHECKING:  # policy.py imports this module to refuse lockouts
    from .policy import Policy

__all__ = ["Quorum", "Shortfall", "assign_seats", "evaluate"]

# A shortfall message lists at most this many names, then says how many more there are.
_SHOWN = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Shortfall:
    """A group that still lacks approvers, and everyone whose approval would fill one of its seats."""

    group: str
    needed: int
    eligible: frozenset[PersonId]

    def __str__(self) -> str:
        # Sorted only here: a large team's list is rarely displayed but often computed.
        names = ", ".join(sorted(self.eligible)[:_SHOWN]) or "nobody"
        if len(self.eligible) > _SHOWN:
            names += f" and {len(self.eligible) - _SHOWN} more"
        return f"{self.group} needs {self.needed} more; eligible: {names}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quorum:
    """The outcome of an evaluation: the seat assignment and what is missing."""

    seats: Mapping[str, tuple[PersonId, ...]]
    missing: tuple[Shortfall, ...]

    @property
    def satisfied(self) -> bool:
        """True when every group has all its seats filled."""
        return not self.missing

    def __str__(self) -> str:
        return "satisfied" if self.satisfied else "; ".join(map(str, self.missing))


def evaluate(policy: Policy, *, uploader: PersonId | None, approvers: Iterable[PersonId]) -> Quorum:
    """Decide whether ``approvers`` satisfy ``policy`` for a request uploaded by ``uploader``.

    Approvers who are eligible for no seat are ignored, and so are repeats; among interchangeable
    approvers, the earlier ones take the seats. A shortfall names everyone whose approval would fill
    a seat of that group, directly or by letting
    an approver move over from another group.

    >>> from tpp_core.policy import ApprovalGroup, Policy, Scope
    >>> group = ApprovalGroup(name="maintainers", members=frozenset({"ann", "bob"}), seats=2)
    >>> policy = Policy(scope=Scope.project("acme"), version=1, groups=(group,))
    >>> evaluate(policy, uploader=None, approvers=["ann", "bob"]).satisfied
    True

    :raises: nothing; every input yields a verdict.
    """
    approved = list(dict.fromkeys(approvers))
    seats, stuck = _match(policy, uploader, approved)
    missing = []
    for number, reachable in stuck.items():
        group = policy.groups[number]
        could = frozenset().union(*(policy.groups[g].eligible(uploader) for g in reachable)).difference(approved)
        missing.append(Shortfall(group=group.name, needed=group.seats - len(seats[number]), eligible=could))
    return Quorum(seats={g.name: tuple(s) for g, s in zip(policy.groups, seats, strict=True)}, missing=tuple(missing))


def assign_seats(policy: Policy, *, uploader: PersonId | None, approvers: Iterable[PersonId]) -> list[list[PersonId]]:
    """A maximum assignment of distinct approvers to seats: one list of people per group, in approval order.

    :raises: nothing.
    """
    return _match(policy, uploader, approvers)[0]


class _Flow:
    """Seats as a flow from approver *types* to groups.

    Approvers eligible for the same groups are interchangeable, so the matching moves whole blocks of
    them at once: one augmenting path shifts as many people as its narrowest step allows. That keeps
    the worst case (greedy seating everyone one group too early) to a few dozen searches over types
    instead of hundreds over people.
    """

    def __init__(self, policy: Policy, uploader: PersonId | None, approvers: Iterable[PersonId]) -> None:
        # The greedy pass: each new approver takes a free seat in the lowest-numbered of their groups
        # that has one. It is the hot loop of every evaluation, so it works on bit masks and locals.
        free = [g.seats for g in policy.groups]
        open_mask = (1 << len(free)) - 1  # groups with a free seat
        masks, keep = policy.seat_masks, ~policy.uploader_mask
        index: dict[int, int] = {}
        types: list[int] = []  # type -> mask of the groups its people may sit in
        people: list[list[PersonId]] = []  # type -> its approvers, in approval order
        spare: list[int] = []  # type -> how many of its approvers have no seat
        flow: list[dict[int, int]] = []  # type -> {group: how many of its approvers sit there}
        rank: dict[PersonId, int] = {}  # approver -> position among distinct approvers
        seated: list[list[PersonId]] = [[] for _ in free]
        for person in approvers:
            if not open_mask:
                break  # every seat is taken; later approvers cannot change the verdict
            if person in rank:
                continue
            rank[person] = len(rank)
            mask = masks.get(person, 0)
            if person == uploader:
                mask &= keep
            if not mask:
                continue
            t = index.get(mask)
            if t is None:
                t = index[mask] = len(types)
                types.append(mask)
                people.append([])
                spare.append(0)
                flow.append({})
            people[t].append(person)
            room = mask & open_mask
            if not room:
                spare[t] += 1
                continue
            g = (room & -room).bit_length() - 1  # the lowest set bit
            free[g] -= 1
            if not free[g]:
                open_mask &= ~(1 << g)
            flow[t][g] = flow[t].get(g, 0) + 1
            seated[g].append(person)
        self.free, self.types, self.people, self.spare, self.flow = free, types, people, spare, flow
        self.rank = rank
        # Who sits where: the greedy pass's seats, until an augmenting path moves people (see seats()).
        self._seated: list[list[PersonId]] | None = seated
        self._types_of: dict[int, list[int]] = {}

    def seats(self) -> list[list[PersonId]]:
        """The people in each group's seats, in approval order."""
        if self._seated is None:
            # Within a type, the earliest approvers take the seats, in the policy's group order.
            self._seated = [[] for _ in self.free]
            for t, people in enumerate(self.people):
                waiting = iter(people)
                for g in sorted(self.flow[t]):
                    self._seated[g].extend(islice(waiting, self.flow[t][g]))
            for sitting in self._seated:
                sitting.sort(key=self.rank.__getitem__)
        return self._seated

    def types_of(self, group: int) -> list[int]:
        """The types eligible for ``group``, computed only for the groups a search visits."""
        types = self._types_of.get(group)
        if types is None:
            types = self._types_of[group] = [t for t, mask in enumerate(self.types) if mask >> group & 1]
        return types

    def augment(self, start: int) -> set[int] | None:
        """Fill seats of ``start`` along one augmenting path; returns None if it did, else the groups
        the search reached (a new approver eligible for any of them would open a path)."""
        came_from: dict[int, tuple[int, int]] = {}  # group h -> (t, g): a person of type t moves h -> g
        seen_groups, seen_types = {start}, set()
        queue = deque([start])
        while queue:
            group = queue.popleft()
            for t in self.types_of(group):
                if t in seen_types:
                    continue
                seen_types.add(t)
                if self.spare[t]:
                    self._shift(start, group, t, came_from)
                    return None
                for home, sitting in self.flow[t].items():
                    if sitting and home not in seen_groups:
                        seen_groups.add(home)
                        came_from[home] = (t, group)
                        queue.append(home)
        return seen_groups

    def _shift(self, start: int, group: int, t: int, came_from: dict[int, tuple[int, int]]) -> None:
        # Spare people of type t sit down in ``group``; each type on the path back to ``start``
        # moves the same number of people one step on, as many as the narrowest step allows.
        moves = []
        while group != start:
            mover, destination = came_from[group]
            moves.append((mover, group, destination))
            group = destination
        amount = min([self.free[start], self.spare[t], *(self.flow[m][src] for m, src, _ in moves)])
        source = moves[0][1] if moves else start
        self.spare[t] -= amount
        self.flow[t][source] = self.flow[t].get(source, 0) + amount
        for mover, src, destination in moves:
            self.flow[mover][src] -= amount
            self.flow[mover][destination] = self.flow[mover].get(destination, 0) + amount
        self.free[start] -= amount
        self._seated = None


def _match(
    policy: Policy, uploader: PersonId | None, approvers: Iterable[PersonId]
) -> tuple[list[list[PersonId]], dict[int, set[int]]]:
    # A greedy pass seats most people directly (see _Flow); augmenting paths then fill the rest. A
    # group for which no augmenting path exists never gains one later (the classic max-flow
    # argument), so each group is searched until it fails once. For each group left short, the groups
    # a search from it reaches in the final, maximum flow are returned too.
    flow = _Flow(policy, uploader, approvers)
    stuck: dict[int, set[int]] = {}
    short = [g for g, free in enumerate(flow.free) if free]
    for g in short:
        while flow.free[g] and flow.augment(g) is None:
            pass
    for g in short:
        if flow.free[g]:
            reached = flow.augment(g)
            assert reached is not None, "a maximum flow has no augmenting path"
            stuck[g] = reached
    return flow.seats(), stuck


def __dir__() -> list[str]:
    return __all__
