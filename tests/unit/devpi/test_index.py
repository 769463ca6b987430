"""The ``tpp`` customizer's filters on stand-in stages: one answer per item, hidden on any doubt (I1).

devpi keeps every item a filter does not answer for (``apply_filter_iter``: ``next(it, True)``), so
these tests zip the answers with the items and check that the lengths agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.devpi.stand_ins import OTHER_SHA, WHEEL_SHA, Stage, Xom, link, records
from tpp_devpi.index import TppStage


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


@pytest.fixture
def xom() -> Xom:
    return Xom(records(**{"acme-1.0.whl": WHEEL_SHA}))


@pytest.fixture
def rel(xom: Xom) -> Stage:
    return Stage(xom, "alice", "rel", {"acme": {"1.0", "2.0"}, "pending": {"0.1"}})


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
        False,  # no tpp index holds it: a mirror's version of a gated name
    ]
    assert answers(tpp.get_versions_filter_iter("public", ["9.9"]), ["9.9"]) == [True]  # a name nobody gates
    projects = ["acme", "pending", "from-a-mirror"]
    assert answers(tpp.get_projects_filter_iter(projects), projects) == [True, False, True]


def test_a_base_index_decides_for_its_own_files(xom: Xom, rel: Stage) -> None:
    Stage(xom, "root", "plain", {"acme": {"3.0"}}, type="stage")
    Stage(xom, "root", "pypi", {}, type="mirror")
    derived = Stage(xom, "bob", "derived", {}, bases=("alice/rel", "root/plain", "root/pypi"))
    links = [
        link("alice/rel", "acme-1.0.whl", "1.0", WHEEL_SHA),  # a tpp base's approved file
        link("alice/rel", "acme-2.0.whl", "2.0", OTHER_SHA),  # a tpp base's pending file
        link("root/plain", "acme-3.0.whl", "3.0", OTHER_SHA),  # a plain base's file
        link("gone/index", "acme-4.0.whl", "4.0", OTHER_SHA),  # an index that no longer exists
        link("root/pypi", "acme-5.0.whl", "5.0", OTHER_SHA),  # a mirror's copy of a gated name
    ]
    assert answers(customizer(derived).get_simple_links_filter_iter("acme", links), links) == [
        True,
        False,
        False,
        False,
        False,
    ]
    public = [
        link("root/pypi", "public-1.0.whl", "1.0", OTHER_SHA),
        link("root/plain", "public-1.0.whl", "1.0", OTHER_SHA),
    ]
    assert answers(customizer(derived).get_simple_links_filter_iter("public", public), public) == [True, False]


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param({"tpp_approved": "not a mapping"}, id="record not a mapping"),
        pytest.param({"tpp_approved": {"index": "alice/rel", "files": {"acme-1.0.whl": 7}}}, id="sha256 not text"),
        pytest.param({"tpp_approved": {"index": "alice/rel", "files": ["acme-1.0.whl"]}}, id="files not a mapping"),
        pytest.param({"tpp_approved": {"files": {"acme-1.0.whl": WHEEL_SHA}}}, id="no index named"),
        pytest.param(
            {"tpp_approved": {"index": "alice/other", "files": {"acme-1.0.whl": WHEEL_SHA}}},
            id="written for another index (copied by devpi push)",
        ),
        pytest.param({"tpp": {"rel": {"acme": {"1.0": {"acme-1.0.whl": WHEEL_SHA}}}}}, id="the old format"),
        pytest.param({}, id="no record"),
    ],
)
def test_damaged_records_hide_everything(damaged: dict[str, Any]) -> None:
    stage = Stage(Xom({"alice/rel": {"acme": {"1.0": damaged}}}), "alice", "rel", {"acme": {"1.0"}})
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
