"""Which bases a ``tpp`` index follows, and which configurations it refuses (I1, I3)."""

from __future__ import annotations

import pytest

from tests.unit.devpi.stand_ins import WHEEL_SHA, Stage, Xom, records
from tpp_devpi.bases import Lineage, config_errors, skips_base


@pytest.mark.parametrize(
    ("reader", "base", "skipped"),
    [
        ("tpp", "tpp", False),  # its records decide
        ("tpp", "mirror", False),  # for names the tpp index does not gate
        ("tpp", "stage", True),  # nobody approved a plain index's files
        ("tpp", "custom", True),  # nor those of any other index type
        ("stage", "tpp", True),  # a plain index would show a tpp base's files unfiltered
        ("stage", "stage", False),
        ("stage", "mirror", False),
    ],
)
def test_which_bases_are_followed(reader: str, base: str, skipped: bool) -> None:
    xom = Xom({})
    assert bool(skips_base(Stage(xom, "a", "r", {}, type=reader), Stage(xom, "b", "s", {}, type=base))) is skipped


def test_an_unreadable_base_counts_as_gated() -> None:
    class Broken:
        name = "x/y"

        @property
        def ixconfig(self) -> dict[str, str]:
            raise RuntimeError("keyfs went away")

    assert skips_base(Stage(Xom({}), "a", "plain", {}, type="stage"), Broken()) is True
    assert not skips_base(Stage(Xom({}), "a", "rel", {}, type="tpp"), Broken())  # its (empty) records decide


def test_transitive_bases_gate_their_names() -> None:
    xom = Xom(records("alice/core", **{"acme-1.0.whl": WHEEL_SHA}))
    Stage(xom, "alice", "core", {"acme": {"1.0"}})
    Stage(xom, "alice", "mid", {"other": {"0.1"}}, bases=("alice/core", "alice/plain"))
    Stage(xom, "alice", "plain", {"acme": {"9.0"}}, type="stage")
    Stage(xom, "root", "pypi", {}, type="mirror")
    top = Stage(xom, "alice", "top", {}, bases=("alice/mid", "root/pypi"))
    lineage = Lineage(top)
    assert [stage.name for stage in lineage.gating] == ["alice/top", "alice/mid", "alice/core"]
    assert lineage.gates("ACME")
    assert lineage.gates("other")
    assert not lineage.gates("public")
    assert lineage.version_visible("acme", "1.0")
    assert not lineage.version_visible("acme", "9.0")  # only the plain index has it
    assert not lineage.version_visible("other", "0.1")
    assert lineage.project_visible("acme")
    assert not lineage.project_visible("other")


def test_configurations_that_would_open_a_gated_name_are_refused() -> None:
    xom = Xom({})
    Stage(xom, "alice", "plain", {}, type="stage")
    Stage(xom, "root", "pypi", {}, type="mirror")
    Stage(xom, "bob", "rel", {"acme": {"1.0"}})
    good = Stage(xom, "alice", "good", {"own": {"1.0"}}, bases=("bob/rel", "root/pypi"), mirror_whitelist=("public",))
    assert config_errors(good) == []
    bad = Stage(
        xom,
        "alice",
        "bad",
        {"own": {"1.0"}},
        bases=("alice/plain", "root/pypi", "bob/rel"),
        mirror_whitelist=("*", "Acme", "own", "public"),
    )
    assert config_errors(bad) == [
        "a tpp index inherits only from tpp indexes and mirrors, and alice/plain is a 'stage' index whose files"
        " nobody approved",
        "mirror_whitelist=* would let a mirror serve the names this tpp index gates",
        "mirror_whitelist names Acme, which this tpp index gates: only approved files of it are served",
        "mirror_whitelist names own, which this tpp index gates: only approved files of it are served",
    ]
