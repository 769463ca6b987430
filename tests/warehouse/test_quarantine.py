"""Quarantine storage: a local directory and S3 (moto's server on loopback), and the gated wrapper
around the host's storage. Promotion checks the bytes; deletion leaves nothing behind."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import pytest
from zope.interface.verify import verifyObject

from tests.warehouse.conftest import S3
from tests.warehouse_host.storage import LocalFileStorage, S3FileStorage
from tpp_warehouse.warehouse.quarantine import (
    GatedFileStorage,
    IQuarantine,
    LocalQuarantine,
    QuarantineError,
    S3Quarantine,
)

PATH = "ab/cd/0123/acme-1.0-py3-none-any.whl"
DATA = b"wheel bytes" * 100
SHA256 = hashlib.sha256(DATA).hexdigest()
META = {"project": "acme", "version": "1.0"}


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(DATA)
    return path


@pytest.fixture
def local(tmp_path: Path) -> tuple[LocalQuarantine, Path]:
    public = tmp_path / "public"
    return LocalQuarantine(tmp_path / "quarantine", LocalFileStorage(str(public))), public


def test_local_store_promote(local: tuple[LocalQuarantine, Path], upload: Path) -> None:
    quarantine, public = local
    verifyObject(IQuarantine, quarantine)
    quarantine.store(PATH, str(upload), META)
    quarantine.store(PATH + ".metadata", str(upload), META)
    assert quarantine.contains(PATH)
    assert not (public / PATH).exists()
    quarantine.promote(PATH, SHA256)
    assert (public / PATH).read_bytes() == DATA
    assert (public / (PATH + ".metadata")).exists()
    assert not quarantine.contains(PATH)
    assert not quarantine.contains(PATH + ".metadata")


def test_local_refuses_other_bytes_and_keeps_them_private(local: tuple[LocalQuarantine, Path], upload: Path) -> None:
    quarantine, public = local
    quarantine.store(PATH, str(upload), META)
    with pytest.raises(QuarantineError, match="does not match its approved sha256"):
        quarantine.promote(PATH, "0" * 64)
    assert not (public / PATH).exists()
    assert quarantine.contains(PATH)
    quarantine.delete(PATH)
    assert not quarantine.contains(PATH)
    quarantine.delete(PATH)  # deleting twice is fine: reconciliation may repeat it
    with pytest.raises(QuarantineError, match="is not in the quarantine"):
        quarantine.promote(PATH, SHA256)


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../outside", "a/../../b", "a//b", "./a"])
def test_unsafe_paths_are_refused(local: tuple[LocalQuarantine, Path], upload: Path, path: str) -> None:
    with pytest.raises(QuarantineError, match="unsafe storage path"):
        local[0].store(path, str(upload), META)


class Recorder:
    def __init__(self) -> None:
        self.stored: list[str] = []

    def store(self, path: str, file_path: str, *, meta: Mapping[str, object] | None = None) -> None:
        self.stored.append(path)


def test_gated_storage_diverts_gated_projects_only(local: tuple[LocalQuarantine, Path], upload: Path) -> None:
    inner = Recorder()
    storage = GatedFileStorage(inner, local[0], lambda project: project == "acme")
    storage.store(PATH, str(upload), meta=META)
    storage.store("x/beta-1.0.tar.gz", str(upload), meta={"project": "beta"})
    assert inner.stored == ["x/beta-1.0.tar.gz"]
    assert local[0].contains(PATH)
    with pytest.raises(QuarantineError, match="needs meta\\['project'\\]"):
        storage.store("x/y", str(upload))


@pytest.fixture
def on_s3(s3: S3) -> S3Quarantine:
    return S3Quarantine(s3.client, "s3://tpp-quarantine/held", "s3://tpp-public/packages/")


@pytest.mark.service
def test_s3_store_promote_copies_and_checks(s3: S3, on_s3: S3Quarantine, upload: Path) -> None:
    verifyObject(IQuarantine, on_s3)
    on_s3.store(PATH, str(upload), META)
    on_s3.store(PATH + ".metadata", str(upload), META)
    assert s3.keys("tpp-quarantine") == [f"held/{PATH}", f"held/{PATH}.metadata"]
    assert s3.keys("tpp-public") == []
    on_s3.promote(PATH, SHA256)
    assert s3.keys("tpp-quarantine") == []
    assert s3.keys("tpp-public") == [f"packages/{PATH}", f"packages/{PATH}.metadata"]
    assert s3.client.get_object(Bucket="tpp-public", Key=f"packages/{PATH}")["Body"].read() == DATA


@pytest.mark.service
@pytest.mark.parametrize("prefix", ["packages", "packages/", ""])
def test_s3_promotes_to_the_key_the_host_reads(s3: S3, upload: Path, prefix: str) -> None:
    # Warehouse's S3 storage joins its prefix and the path with nothing between (_get_path).
    quarantine = S3Quarantine(s3.client, "s3://tpp-quarantine/held", f"s3://tpp-public/{prefix}")
    quarantine.store(PATH, str(upload), META)
    quarantine.promote(PATH, SHA256)
    assert s3.keys("tpp-public") == [prefix + PATH]
    assert S3FileStorage(s3.client, "tpp-public", prefix).get(PATH).read() == DATA


@pytest.mark.service
def test_s3_withdraws_a_copy_that_is_not_the_approved_file(s3: S3, on_s3: S3Quarantine, upload: Path) -> None:
    on_s3.store(PATH, str(upload), META)
    # The object was swapped in the quarantine after approval (moto ignores CopySourceIfMatch).
    s3.client.put_object(Bucket="tpp-quarantine", Key=f"held/{PATH}", Body=b"evil", ChecksumAlgorithm="SHA256")
    with pytest.raises(QuarantineError, match="does not match its approved sha256; withdrawn"):
        on_s3.promote(PATH, SHA256)
    assert s3.keys("tpp-public") == []


@pytest.mark.service
def test_s3_delete_and_missing(s3: S3, on_s3: S3Quarantine, upload: Path) -> None:
    on_s3.store(PATH, str(upload), META)
    on_s3.delete(PATH)
    assert s3.keys("tpp-quarantine") == []
    with pytest.raises(QuarantineError, match="is not in the quarantine"):
        on_s3.promote(PATH, SHA256)


@pytest.mark.service
def test_s3_errors_are_quarantine_errors(s3: S3, upload: Path) -> None:
    missing = S3Quarantine(s3.client, "s3://no-such-bucket/held", "s3://tpp-public")
    with pytest.raises(QuarantineError, match="cannot store"):
        missing.store(PATH, str(upload), META)
