"""An in-memory host for service tests: who owns what, who is logged in, what was published.

It implements the host port (:class:`tpp_warehouse.interfaces.IHost`) the way a registry adapter
would, and records publish/purge calls so tests can assert on exactly what the host was asked to do.
Functional tests use a Warehouse-shaped host instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zope.interface import implementer

from tpp_core import PersonId, ProjectName, Publish, Purge, ReleaseFile, Scope, ScopeKind
from tpp_warehouse.interfaces import IHost


@implementer(IHost)
@dataclass
class MemoryHost:
    """Projects and their owners; ``admins`` may manage any prefix scope."""

    owners_of: dict[str, set[str]] = field(default_factory=lambda: {"acme": {"lead", "cora"}})
    admins: set[str] = field(default_factory=lambda: {"root"})
    published: list[Publish] = field(default_factory=list)
    purged: list[Purge] = field(default_factory=list)
    #: (project, version) -> the files uploaded, each with its uploader; published or purged ones
    #: are no longer held.
    uploads: dict[tuple[str, str], list[tuple[ReleaseFile, PersonId]]] = field(default_factory=dict)

    def session_person(self, request: Any) -> PersonId | None:
        person = getattr(request, "session_person", None)
        return None if person is None else PersonId(person)

    def credential_person(self, request: Any) -> PersonId | None:
        person = getattr(request, "credential_person", None) or getattr(request, "session_person", None)
        return None if person is None else PersonId(person)

    def may_manage(self, person: PersonId, scope: Scope) -> bool:
        if person in self.admins:
            return True
        return scope.kind is ScopeKind.PROJECT and person in self.owners_of.get(scope.value, set())

    def owners(self, project: ProjectName) -> frozenset[PersonId]:
        return frozenset(PersonId(p) for p in self.owners_of.get(project, set()))

    def is_admin(self, person: PersonId) -> bool:
        return person in self.admins

    def held(self, project: ProjectName, version: str) -> list[tuple[ReleaseFile, PersonId]]:
        done = {f for action in self.published for f in action.release.files}
        done.update(f for action in self.purged for f in action.files)
        return [(f, who) for f, who in self.uploads.get((project, version), []) if f not in done]

    def unowned(self, person: PersonId) -> list[tuple[ProjectName, str]]:
        return sorted(
            (ProjectName(project), version)
            for project, version in self.uploads
            if not self.owners_of.get(project)
            and any(who == person for _, who in self.held(ProjectName(project), version))
        )

    def publish(self, action: Publish) -> None:
        self.published.append(action)

    def purge(self, action: Purge) -> None:
        self.purged.append(action)
