"""Approval policies: who must approve a release, in which groups, with how many seats.

A policy applies to one project or to every project under a name prefix (the most specific wins, see
:func:`select_policy`). It is validated when built: a policy that could never be satisfied would lock a
project out of its own releases, so it cannot exist.

>>> lead = ApprovalGroup(name="lead", members=frozenset({"ann"}))
>>> core = ApprovalGroup(name="core-team", members=frozenset({"ann", "bob", "cy"}), excluded=frozenset({"ann"}))
>>> policy = Policy(scope=Scope.project("acme"), version=1, groups=(lead, core))
>>> [g.name for g in policy.groups]
['lead', 'core-team']
>>> Policy(scope=Scope.project("acme"), version=1, groups=())
Traceback (most recent call last):
...
tpp_core.errors.InvalidPolicy: a policy needs at least one approval group
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput, InvalidPolicy
from .identifiers import PersonId, ProjectName, canonicalize_prefix, canonicalize_project, person_id
from .quorum import assign_seats

__all__ = ["DEFAULT_GROUP", "ApprovalGroup", "Policy", "Scope", "ScopeKind", "default_policy", "select_policy"]

_GROUP_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9])?")

#: The group of a project's default policy; no name a person writes looks like it.
DEFAULT_GROUP = "(Default)"


class ScopeKind(enum.Enum):
    """What a policy covers: one project, or every project whose name starts with a prefix."""

    PROJECT = "project"
    PREFIX = "prefix"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """The projects a policy governs. Build it with :meth:`project` or :meth:`prefix`."""

    kind: ScopeKind
    value: str

    def __post_init__(self) -> None:
        if self.kind is ScopeKind.PROJECT:
            canonical: str = canonicalize_project(self.value)
        else:
            canonical = canonicalize_prefix(self.value)
        if canonical != self.value:
            raise InvalidInput(f"scope value {self.value!r} is not canonical; use Scope.{self.kind.value}()")

    @classmethod
    def project(cls, name: str) -> Scope:
        """The scope of exactly one project.

        >>> Scope.project("Acme_Tools").value
        'acme-tools'
        """
        return cls(kind=ScopeKind.PROJECT, value=canonicalize_project(name))

    @classmethod
    def prefix(cls, prefix: str) -> Scope:
        """The scope of every project whose canonical name starts with ``prefix``.

        >>> Scope.prefix("acme-").matches(canonicalize_project("Acme.Cli"))
        True
        """
        return cls(kind=ScopeKind.PREFIX, value=canonicalize_prefix(prefix))

    def matches(self, project: ProjectName) -> bool:
        """Whether this scope covers ``project`` (a canonical name)."""
        if self.kind is ScopeKind.PROJECT:
            return project == self.value
        return project.startswith(self.value)

    @property
    def specificity(self) -> tuple[int, int]:
        """Sort key: a project scope beats any prefix, and a longer prefix beats a shorter one."""
        return (1 if self.kind is ScopeKind.PROJECT else 0, len(self.value))

    def __str__(self) -> str:
        return self.value if self.kind is ScopeKind.PROJECT else f"{self.value}*"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalGroup:
    """A set of people of whom ``seats`` distinct ones must approve.

    ``excluded`` names members who may not fill this group's seats (e.g. "a core-team member other
    than the lead"); ``exclude_uploader`` keeps whoever uploaded the release out of this group.
    """

    name: str
    members: frozenset[PersonId]
    seats: int = 1
    exclude_uploader: bool = False
    excluded: frozenset[PersonId] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not (self.name == DEFAULT_GROUP or _GROUP_NAME.fullmatch(self.name)):
            raise InvalidPolicy(f"invalid group name {self.name!r}: use 1-64 letters, digits, spaces, '.', '_' or '-'")
        if isinstance(self.seats, bool) or not isinstance(self.seats, int) or self.seats < 1:
            raise InvalidPolicy(f"group {self.name!r}: seats must be a whole number of at least 1, got {self.seats!r}")
        for label, people in (("members", self.members), ("excluded", self.excluded)):
            if not isinstance(people, frozenset):
                raise InvalidPolicy(f"group {self.name!r}: {label} must be a frozenset of person ids")
            for person in people:
                try:
                    person_id(person)
                except InvalidInput as error:
                    raise InvalidPolicy(f"group {self.name!r}: {label}: {error}") from None
        if not self.members:
            raise InvalidPolicy(f"group {self.name!r} has no members")
        strangers = sorted(self.excluded - self.members)
        if strangers:
            raise InvalidPolicy(f"group {self.name!r} excludes {', '.join(strangers)}, who is not a member")
        eligible = len(self.members - self.excluded) - (1 if self.exclude_uploader else 0)
        if eligible < self.seats:
            caveat = ", if the uploader is one of them" if self.exclude_uploader else ""
            raise InvalidPolicy(
                f"group {self.name!r} needs {self.seats} approver(s) but only {max(eligible, 0)}"
                f" eligible member(s) remain once exclusions apply{caveat}"
            )

    def eligible(self, uploader: PersonId | None) -> frozenset[PersonId]:
        """The members who may fill a seat of this group on a request uploaded by ``uploader``."""
        people = self.members - self.excluded
        if self.exclude_uploader and uploader is not None:
            people = people - {uploader}
        return people


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Every approval group must fill its seats, each seat with a different person.

    ``version`` increases by one with each accepted change; a request keeps the version it was
    opened under. Building a policy refuses a lockout: if every eligible person approved, the seats
    must be fillable by distinct people, whoever among the members uploads.
    """

    scope: Scope
    version: int
    groups: tuple[ApprovalGroup, ...]
    # person -> indexes of the groups in which they may sit (named exclusions applied), built once so
    # that evaluating a quorum costs time in the number of approvals, not of members.
    seats_index: Mapping[PersonId, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    # The same as bit masks (bit g set: may sit in group g), and the groups that exclude the uploader:
    # the quorum's hot loop tests and picks seats with a few integer operations.
    seat_masks: Mapping[PersonId, int] = field(init=False, repr=False, compare=False)
    uploader_mask: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidPolicy(f"policy version must be a whole number of at least 1, got {self.version!r}")
        if not isinstance(self.groups, tuple) or not self.groups:
            raise InvalidPolicy("a policy needs at least one approval group")
        seen: set[str] = set()
        for group in self.groups:
            key = group.name.casefold()
            if key in seen:
                raise InvalidPolicy(f"two groups are named {group.name!r}")
            seen.add(key)
        index: dict[PersonId, list[int]] = {}
        for number, group in enumerate(self.groups):
            for person in group.members - group.excluded:
                index.setdefault(person, []).append(number)
        object.__setattr__(self, "seats_index", {p: tuple(g) for p, g in index.items()})
        object.__setattr__(self, "seat_masks", {p: sum(1 << n for n in g) for p, g in index.items()})
        excluding = sum(1 << n for n, g in enumerate(self.groups) if g.exclude_uploader)
        object.__setattr__(self, "uploader_mask", excluding)
        self._refuse_lockout()

    @property
    def people(self) -> frozenset[PersonId]:
        """Everyone named in any group."""
        return frozenset(self.seats_index)

    def groups_of(self, person: PersonId, uploader: PersonId | None) -> tuple[int, ...]:
        """Indexes of the groups whose seats ``person`` may fill on a request by ``uploader``."""
        groups = self.seats_index.get(person, ())
        if person == uploader:
            groups = tuple(g for g in groups if not self.groups[g].exclude_uploader)
        return groups

    def _refuse_lockout(self) -> None:
        everyone = sorted(self.seats_index)
        seats = assign_seats(self, uploader=None, approvers=everyone)
        self._check_filled(seats, uploader=None)
        # Only someone who took a seat of an uploader-excluding group can, by uploading, break this
        # matching; for anyone else it stays valid. So checking those few people covers every uploader.
        for number, sitting in enumerate(seats):
            if self.groups[number].exclude_uploader:
                for uploader in sitting:
                    self._check_filled(assign_seats(self, uploader=uploader, approvers=everyone), uploader)

    def _check_filled(self, seats: Sequence[Sequence[PersonId]], uploader: PersonId | None) -> None:
        short = [g.name for g, sitting in zip(self.groups, seats, strict=True) if len(sitting) < g.seats]
        if short:
            needed = sum(g.seats for g in self.groups)
            when = f" when {uploader} uploads" if uploader is not None else ""
            raise InvalidPolicy(
                f"the groups need {needed} distinct approvers in all, but even if everyone approved,"
                f" {', '.join(map(repr, short))} could not be filled{when}"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready, canonical form (sorted people) for storage and manifests."""
        return {
            "scope": {"kind": self.scope.kind.value, "value": self.scope.value},
            "version": self.version,
            "groups": [
                {
                    "name": g.name,
                    "members": sorted(g.members),
                    "seats": g.seats,
                    "exclude_uploader": g.exclude_uploader,
                    "excluded": sorted(g.excluded),
                }
                for g in self.groups
            ],
        }

    @classmethod
    def from_dict(cls, data: object) -> Policy:
        """Build a policy from its :meth:`to_dict` form, e.g. parsed JSON from a form or a file.

        >>> Policy.from_dict({"scope": {"kind": "project", "value": "acme"}, "version": 1,
        ...                   "groups": [{"name": "lead", "members": "ann"}]})
        Traceback (most recent call last):
        ...
        tpp_core.errors.InvalidPolicy: groups[0].members: expected a list of person ids, got 'ann'

        :raises InvalidPolicy: naming the first field that is missing or malformed.
        """
        root = _mapping(data, "policy", {"scope", "version", "groups"}, {"scope", "version", "groups"})
        scope_data = _mapping(root["scope"], "scope", {"kind", "value"}, {"kind", "value"})
        try:
            kind = ScopeKind(scope_data["kind"])
        except ValueError:
            raise InvalidPolicy(f"scope.kind: expected 'project' or 'prefix', got {scope_data['kind']!r}") from None
        value = scope_data["value"]
        try:
            scope = Scope.project(value) if kind is ScopeKind.PROJECT else Scope.prefix(value)
        except InvalidInput as error:
            raise InvalidPolicy(f"scope.value: {error}") from None
        groups_data = root["groups"]
        if not isinstance(groups_data, list):
            raise InvalidPolicy(f"groups: expected a list, got {groups_data!r}")
        groups = tuple(_group_from_dict(item, f"groups[{n}]") for n, item in enumerate(groups_data))
        return cls(scope=scope, version=root["version"], groups=groups)


def _mapping(data: object, where: str, required: set[str], allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidPolicy(f"{where}: expected an object, got {data!r}")
    missing = sorted(required - data.keys())
    if missing:
        raise InvalidPolicy(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(k) for k in data.keys() - allowed)
    if unknown:
        raise InvalidPolicy(f"{where}: unknown field(s) {', '.join(unknown)}")
    return data


def _people(data: object, where: str) -> frozenset[PersonId]:
    if not isinstance(data, list):
        raise InvalidPolicy(f"{where}: expected a list of person ids, got {data!r}")
    try:
        return frozenset(person_id(item) for item in data)
    except InvalidInput as error:
        raise InvalidPolicy(f"{where}: {error}") from None


def _group_from_dict(data: object, where: str) -> ApprovalGroup:
    fields = _mapping(data, where, {"name", "members"}, {"name", "members", "seats", "exclude_uploader", "excluded"})
    exclude_uploader = fields.get("exclude_uploader", False)
    if not isinstance(exclude_uploader, bool):
        raise InvalidPolicy(f"{where}.exclude_uploader: expected true or false, got {exclude_uploader!r}")
    return ApprovalGroup(
        name=fields["name"],
        members=_people(fields["members"], f"{where}.members"),
        seats=fields.get("seats", 1),
        exclude_uploader=exclude_uploader,
        excluded=_people(fields.get("excluded", []), f"{where}.excluded"),
    )


def default_policy(project: ProjectName, owners: Iterable[PersonId]) -> Policy:
    """The policy a project gets when its name is first claimed and no prefix policy governs it:
    one of its owners approves (invariant I5). Every later change is approved under it.

    >>> policy = default_policy(canonicalize_project("Acme"), ["ann"])
    >>> (str(policy.scope), policy.version, [(g.name, sorted(g.members), g.seats) for g in policy.groups])
    ('acme', 1, [('(Default)', ['ann'], 1)])

    :raises InvalidPolicy: if ``owners`` is empty.
    """
    group = ApprovalGroup(name=DEFAULT_GROUP, members=frozenset(person_id(o) for o in owners))
    return Policy(scope=Scope.project(project), version=1, groups=(group,))


def select_policy(policies: Iterable[Policy], project: ProjectName) -> Policy | None:
    """The policy governing ``project``: its own if it has one, else the longest matching prefix.

    >>> one = ApprovalGroup(name="owners", members=frozenset({"ann"}))
    >>> wide = Policy(scope=Scope.prefix("acme-"), version=3, groups=(one,))
    >>> own = Policy(scope=Scope.project("acme-cli"), version=1, groups=(one,))
    >>> str(select_policy([wide, own], canonicalize_project("acme-cli")).scope)
    'acme-cli'
    >>> str(select_policy([wide, own], canonicalize_project("acme-web")).scope)
    'acme-*'
    >>> select_policy([wide, own], canonicalize_project("other")) is None
    True
    """
    matching = [p for p in policies if p.scope.matches(project)]
    return max(matching, key=lambda p: p.scope.specificity, default=None)


def __dir__() -> list[str]:
    return __all__
