"""Stand-ins for devpi's stages, links and keyfs, enough for the customizer and its lineage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tpp_devpi.bases import skips_base

WHEEL_SHA = "a" * 64
OTHER_SHA = "b" * 64


@dataclass
class Link:
    """What devpi's SimplelinkMeta offers the filter."""

    href: str
    basename: str
    version: str
    hashes: dict[str, str]


def link(owner: str, basename: str, version: str, sha256: str) -> Link:
    return Link(f"{owner}/+f/aaa/bbb/{basename}#sha256={sha256}", basename, version, {"sha256": sha256})


@dataclass
class Key:
    value: dict[str, Any]

    def get(self) -> dict[str, Any]:
        return self.value


@dataclass
class Model:
    stages: dict[str, Any]

    def getstage(self, user: str, index: str | None = None) -> Any:
        return self.stages.get(user if index is None else f"{user}/{index}")


@dataclass(eq=False)  # hashable, as devpi's XOM is (the plugin keys weak maps by it)
class Xom:
    """keyfs user records and the stages of a server."""

    users: dict[str, dict[str, Any]]
    model: Model = field(default_factory=lambda: Model({}))

    def __post_init__(self) -> None:
        self.keyfs = self

    def USER(self, user: str) -> Key:  # devpi names its keys in capitals
        return Key(self.users.get(user, {}))


@dataclass
class Stage:
    xom: Xom
    username: str
    index: str
    projects: dict[str, set[str]]
    type: str = "tpp"
    bases: tuple[str, ...] = ()
    mirror_whitelist: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.xom.model.stages[self.name] = self

    @property
    def name(self) -> str:
        return f"{self.username}/{self.index}"

    @property
    def ixconfig(self) -> dict[str, Any]:
        return {"type": self.type, "bases": self.bases, "mirror_whitelist": self.mirror_whitelist}

    def sro(self) -> Iterator[Stage]:
        """devpi's resolution order: breadth first, mirrors last, skipped bases not followed."""
        todo, mirrors, seen = [self], [], {self.name}
        while todo:
            stage = todo.pop(0)
            yield stage
            for base in stage.bases:
                found = self.xom.model.getstage(*base.split("/"))
                if base in seen or found is None or skips_base(self, found):
                    continue
                seen.add(base)
                (mirrors if found.type == "mirror" else todo).append(found)
        yield from mirrors

    def list_projects_perstage(self) -> Iterable[str]:
        return self.projects

    def list_versions_perstage(self, project: str) -> set[str]:
        return self.projects[project]
