"""The ``tpp`` customizer's filters on stand-in stages: one answer per item, hidden on any doubt (I1).

devpi keeps every item a filter does not answer for (``apply_filter_iter``: ``next(it, True)``), so
these tests zip the answers with the items and check that the lengths agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tpp_devpi.index import TppStage

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

    def getstage(self, user: str, index: str) -> Any:
        return self.stages.get(f"{user}/{index}")


@dataclass
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

    @property
    def name(self) -> str:
        return f"{self.username}/{self.index}"

    @property
    def ixconfig(self) -> dict[str, Any]:
        return {"type": self.type}

    def list_projects_perstage(self) -> Iterable[str]:
        return self.projects

    def list_versions_perstage(self, project: str) -> set[str]:
        return self.projects[project]


def customizer(stage: Stage) -> TppStage:
    instance = TppStage()
    instance.stage = stage
    return instance


def answers(filter_iter: Iterator[bool] | None, items: list[Any]) -> list[bool]:
    """The filter's answers; devpi would keep any item past the last answer, so there must be one each."""
    assert filter_iter is not None
    result = list(filter_iter)
    assert len(result) == len(items), "a filter must answer exactly once per item"
    assert all(isinstance(answer, bool) for answer in result)
    return result


def records(**files: str) -> dict[str, Any]:
    return {"tpp": {"rel": {"acme": {"1.0": files}}}}


@pytest.fixture
def xom() -> Xom:
    return Xom({"alice": records(**{"acme-1.0.whl": WHEEL_SHA})})


@pytest.fixture
def rel(xom: Xom) -> Stage:
    stage = Stage(xom, "alice", "rel", {"acme": {"1.0", "2.0"}, "pending": {"0.1"}})
    xom.model.stages["alice/rel"] = stage
    return stage


def test_links_show_exactly_the_approved_bytes(rel: Stage) -> None:
    links = [
        link("alice/rel", "acme-1.0.whl", "1.0", WHEEL_SHA),  # approved
        link("alice/rel", "acme-1.0.whl", "1.0", OTHER_SHA),  # same name, other bytes
        link("alice/rel", "acme-1.0.tar.gz", "1.0", WHEEL_SHA),  # added to an approved version later
        link("alice/rel", "acme-2.0.whl", "2.0", WHEEL_SHA),  # another version
    ]
    assert answers(customizer(rel).get_simple_links_filter_iter("acme", links), links) == [True, False, False, False]


def test_versions_and_projects_need_an_approved_file(rel: Stage) -> None:
    tpp = customizer(rel)
    assert answers(tpp.get_versions_filter_iter("acme", ["1.0", "2.0", "9.9"]), ["1.0", "2.0", "9.9"]) == [
        True,  # approved
        False,  # pending
        True,  # not this index's: a base's version passes
    ]
    projects = ["acme", "pending", "from-a-base"]
    assert answers(tpp.get_projects_filter_iter(projects), projects) == [True, False, True]


def test_a_base_index_decides_for_its_own_files(xom: Xom, rel: Stage) -> None:
    xom.model.stages["root/plain"] = Stage(xom, "root", "plain", {}, type="stage")
    derived = Stage(xom, "bob", "derived", {})
    links = [
        link("alice/rel", "acme-1.0.whl", "1.0", WHEEL_SHA),  # a tpp base's approved file
        link("alice/rel", "acme-2.0.whl", "2.0", OTHER_SHA),  # a tpp base's pending file
        link("root/plain", "acme-3.0.whl", "3.0", OTHER_SHA),  # a plain base's file
        link("gone/index", "acme-4.0.whl", "4.0", OTHER_SHA),  # an index that no longer exists
    ]
    assert answers(customizer(derived).get_simple_links_filter_iter("acme", links), links) == [
        True,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param({"tpp": "not a mapping"}, id="record not a mapping"),
        pytest.param({"tpp": {"rel": {"acme": {"1.0": {"acme-1.0.whl": 7}}}}}, id="sha256 not text"),
        pytest.param({"tpp": {"rel": {"acme": ["1.0"]}}}, id="versions not a mapping"),
        pytest.param({}, id="no record"),
    ],
)
def test_damaged_records_hide_everything(damaged: dict[str, Any]) -> None:
    stage = Stage(Xom({"alice": damaged}), "alice", "rel", {"acme": {"1.0"}})
    tpp = customizer(stage)
    links = [link("alice/rel", "acme-1.0.whl", "1.0", WHEEL_SHA)]
    assert answers(tpp.get_simple_links_filter_iter("acme", links), links) == [False]
    assert answers(tpp.get_versions_filter_iter("acme", ["1.0"]), ["1.0"]) == [False]
    assert answers(tpp.get_projects_filter_iter(["acme"]), ["acme"]) == [False]


def test_a_filter_that_breaks_hides_the_rest(rel: Stage) -> None:
    links: list[Any] = [link("alice/rel", "acme-1.0.whl", "1.0", WHEEL_SHA), object(), object()]
    assert answers(customizer(rel).get_simple_links_filter_iter("acme", links), links) == [True, False, False]

    def broken(project: str) -> set[str]:
        raise RuntimeError("keyfs went away")

    rel.list_versions_perstage = broken  # type: ignore[method-assign]
    assert answers(customizer(rel).get_versions_filter_iter("acme", ["1.0", "2.0"]), ["1.0", "2.0"]) == [
        False,
        False,
    ]
