"""The memo answers only what the same transaction would compute: a value is reused while nothing
it depends on changed in devpi's changelog, and computed afresh otherwise (I1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tpp_devpi.memo import CONFIG, Memo, project_name

VERSION = "alice/rel/acme/1.0/.config"


@dataclass
class Conn:
    changelog: dict[int, dict[str, tuple[str, int, Any]]] = field(default_factory=dict)

    def get_changes(self, serial: int) -> dict[str, tuple[str, int, Any]]:
        return self.changelog.get(serial, {})


@dataclass
class Tx:
    at_serial: int
    conn: Conn
    write: bool = False


@dataclass(eq=False)
class KeyFS:
    """A keyfs at a serial, with a changelog a test writes to."""

    conn: Conn = field(default_factory=Conn)
    serial: int = 10
    write: bool = False

    @property
    def tx(self) -> Tx:
        return Tx(self.serial, self.conn, self.write)

    def commit(self, relpath: str, keyname: str) -> None:
        self.serial += 1
        self.conn.changelog[self.serial] = {relpath: (keyname, -1, {})}


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


DEPENDS = (VERSION, project_name("alice/rel", "acme"), CONFIG)


def test_a_value_is_reused_until_what_it_depends_on_changes() -> None:
    keyfs, memo, compute = KeyFS(), Memo(), Counter()
    assert memo.get(keyfs, "k", DEPENDS, compute) == 1
    assert memo.get(keyfs, "k", DEPENDS, compute) == 1
    keyfs.commit("bob/other/thing/1.0/.config", "PROJVERSION")  # another project: still the same
    assert memo.get(keyfs, "k", DEPENDS, compute) == 1
    keyfs.commit(VERSION, "PROJVERSION")  # an approval of this version
    assert memo.get(keyfs, "k", DEPENDS, compute) == 2
    assert memo.get(keyfs, "k", DEPENDS, compute) == 2


@pytest.mark.parametrize(
    ("relpath", "keyname"),
    [
        ("alice/rel/acme/.simple", "PROJSIMPLELINKS"),  # a new file of the project
        ("alice/rel/acme/.versions", "PROJVERSIONS"),  # a new version
        ("alice/rel/acme/2.0/.config", "PROJVERSION"),  # another version's data
        ("alice/.config", "USER"),  # an index configuration (bases)
        (".config", "USERLIST"),  # a new or deleted user
    ],
)
def test_any_change_of_the_project_or_of_a_configuration_invalidates(relpath: str, keyname: str) -> None:
    keyfs, memo, compute = KeyFS(), Memo(), Counter()
    depends = (project_name("alice/rel", "acme"), CONFIG)
    memo.get(keyfs, "k", depends, compute)
    keyfs.commit(relpath, keyname)
    assert memo.get(keyfs, "k", depends, compute) == 2


def test_write_transactions_and_older_serials_compute_afresh() -> None:
    keyfs, memo, compute = KeyFS(), Memo(), Counter()
    memo.get(keyfs, "k", DEPENDS, compute)
    keyfs.write = True  # may hold changes of its own
    assert memo.get(keyfs, "k", DEPENDS, compute) == 2
    keyfs.write = False
    keyfs.commit("bob/other/thing/1.0/.config", "PROJVERSION")
    assert memo.get(keyfs, "k", DEPENDS, compute) == 1  # what was remembered at serial 10
    keyfs.serial = 9  # a request that began before the value was computed
    assert memo.get(keyfs, "k", DEPENDS, compute) == 3


def test_nothing_is_remembered_from_before_the_changelog_was_read() -> None:
    keyfs, memo, compute = KeyFS(), Memo(), Counter()
    memo.get(keyfs, "other", DEPENDS, compute)  # the memo starts reading the changelog at serial 10
    keyfs.serial = 8  # an older request: changes in (8, 10] are unknown, so its value is not kept
    memo.get(keyfs, "k", DEPENDS, compute)
    keyfs.serial = 10
    assert memo.get(keyfs, "k", DEPENDS, compute) == 3
