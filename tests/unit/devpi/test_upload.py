"""What the upload hook sends to TPP: the version's unapproved files whose bytes are still there."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from tests.unit.devpi.stand_ins import OTHER_SHA, WHEEL_SHA, Stage, Xom
from tpp_devpi.upload import on_upload, pending


@dataclass
class Entry:
    size: int | None

    def file_size(self) -> int | None:
        return self.size


@dataclass
class ReleaseLink:
    basename: str
    version: str
    sha256: str
    size: int | None
    rel: str = "releasefile"
    hashes: dict[str, str] = field(init=False)
    entry: Entry = field(init=False)

    def __post_init__(self) -> None:
        self.hashes, self.entry = {"sha256": self.sha256}, Entry(self.size)

    def get_logs(self) -> list[dict[str, str]]:
        return [{"what": "upload", "who": "bob"}]


@dataclass
class LinkStore:
    links: list[ReleaseLink]

    def get_links(self, rel: str) -> list[ReleaseLink]:
        return [link for link in self.links if link.rel == rel]


class LinkedStage(Stage):
    links: list[ReleaseLink]

    def get_versiondata_perstage(self, project: str, version: str) -> dict[str, str]:
        return {"name": project, "version": version} if version in self.projects.get(project, ()) else {}

    def get_linkstore_perstage(self, project: str, version: str) -> LinkStore:
        return LinkStore([link for link in self.links if link.version == version])


def stage_with(*links: ReleaseLink) -> LinkedStage:
    stage = LinkedStage(Xom({}), "alice", "rel", {"acme": {"1.0"}})
    stage.links = list(links)
    return stage


def test_a_file_whose_bytes_are_gone_is_not_pending() -> None:
    # A rejection may delete a file before devpi's notifier runs the upload hook for it.
    stage = stage_with(
        ReleaseLink("acme-1.0.whl", "1.0", WHEEL_SHA, 10), ReleaseLink("acme-1.0.tar.gz", "1.0", OTHER_SHA, None)
    )
    found = pending(stage, "acme", "1.0")
    assert [f.filename for f in found.files] == ["acme-1.0.whl"]
    assert found.uploader == "bob"


def test_a_file_tpp_refuses_is_a_warning_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    class Host:
        def is_replica(self) -> bool:
            return False

    link = ReleaseLink("acme-1.0\N{GRINNING FACE}.tar.gz", "1.0", WHEEL_SHA, 10)
    stage = stage_with(link)
    stage.xom.is_replica = Host().is_replica  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="tpp_devpi.upload"):
        on_upload(stage, "acme", "1.0", link)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "cannot be approved" in record.getMessage()
    assert record.exc_info is None
