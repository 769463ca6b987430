"""Download denial on stand-ins: a ``+f/`` request is refused unless its exact file is approved, and
refused when anything about it cannot be checked (I1)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from pyramid.authorization import Everyone

from tests.unit.devpi.stand_ins import WHEEL_SHA, Stage, Xom, records
from tpp_devpi.denials import FILE_ROUTE, denials

DENY = frozenset({(Everyone, "pkg_read")})
RELPATH = "alice/rel/+f/aaa/bbb/acme-1.0.whl"


@dataclass
class Entry:
    project: str | None
    version: str
    basename: str
    hashes: dict[str, str]


class Log:
    def exception(self, *args: Any) -> None:
        """Swallowed: the test looks at the answer."""


def request(path: str, method: str = "GET", route: str = FILE_ROUTE) -> Any:
    return SimpleNamespace(matched_route=SimpleNamespace(name=route), method=method, path_info=path, path=path)


def stage_with(entry: Entry | Exception | None, type: str = "tpp") -> Stage:
    xom = Xom(records(**{"acme-1.0.whl": WHEEL_SHA}))

    def get_file_entry(relpath: str) -> Entry | None:
        assert relpath == RELPATH, relpath  # the ".metadata" suffix is stripped
        if isinstance(entry, Exception):
            raise entry
        return entry

    xom.filestore = SimpleNamespace(get_file_entry=get_file_entry)  # type: ignore[attr-defined]
    xom.log = Log()  # type: ignore[attr-defined]
    return Stage(xom, "alice", "rel", {"acme": {"1.0"}}, type=type)


APPROVED = Entry("acme", "1.0", "acme-1.0.whl", {"sha256": WHEEL_SHA})


@pytest.mark.parametrize("suffix", ["", ".metadata"])
def test_an_approved_file_is_served(suffix: str) -> None:
    assert denials(request(f"/{RELPATH}{suffix}"), stage_with(APPROVED)) is None
    assert denials(request(f"/{RELPATH}{suffix}", "HEAD"), stage_with(APPROVED)) is None


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(Entry("acme", "1.0", "acme-1.0.whl", {"sha256": "c" * 64}), id="other bytes"),
        pytest.param(Entry("acme", "1.0", "acme-1.0.whl", {"md5": "c" * 32}), id="no sha256"),
        pytest.param(Entry(None, "1.0", "acme-1.0.whl", {"sha256": WHEEL_SHA}), id="no project"),
        pytest.param(None, id="no entry"),
        pytest.param(RuntimeError("keyfs went away"), id="the lookup fails"),
    ],
)
def test_anything_else_is_refused(entry: Entry | Exception | None) -> None:
    assert denials(request(f"/{RELPATH}"), stage_with(entry)) == DENY


def test_plain_indexes_and_other_routes_are_not_touched() -> None:
    assert denials(request(f"/{RELPATH}"), stage_with(None, type="stage")) is None
    assert denials(request(f"/{RELPATH}"), None) is None
    assert (
        denials(request("/alice/rel/+simple/acme/", route="/{user}/{index}/+simple/{project}/"), stage_with(None))
        is None
    )
