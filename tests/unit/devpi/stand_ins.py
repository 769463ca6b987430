"""Stand-ins for devpi's stages, links and version data, enough for the customizer and its lineage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
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
class Model:
    stages: dict[str, Any]

    def getstage(self, user: str, index: str | None = None) -> Any:
        return self.stages.get(user if index is None else f"{user}/{index}")


@dataclass(eq=False)  # hashable, as devpi's XOM is (the plugin keys weak maps by it)
class Xom:
    """The version data of a server's stages (``{stage: {project: {version: data}}}``) and its stages."""

    versiondata: dict[str, dict[str, dict[str, dict[str, Any]]]]
    model: Model = field(default_factory=lambda: Model({}))


def records(stage: str = "alice/rel", index: str | None = None, **files: str) -> dict[str, Any]:
    """Version data of ``stage`` where acme 1.0's record (written for ``index``, the stage by default)
    approves ``files``."""
    record = {"tpp_approved": {"index": index or stage, "files": files}}
    return {stage: {"acme": {"1.0": record}}}


class KeyFS:
    """A keyfs whose every transaction writes, so the record cache always reads."""

    tx = SimpleNamespace(write=True)


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
        self.keyfs = KeyFS()

    def key_projversion(self, project: str, version: str) -> SimpleNamespace:
        return SimpleNamespace(relpath=f"{self.name}/{project}/{version}/.config")

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
        return self.projects.get(project, set())

    def get_versiondata_perstage(self, project: str, version: str) -> dict[str, Any]:
        return self.xom.versiondata.get(self.name, {}).get(project, {}).get(version, {})
