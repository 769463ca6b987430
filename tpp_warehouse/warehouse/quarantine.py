"""Where gated uploads wait: private storage, promoted to the public one on approval, deleted otherwise.

A Warehouse-shaped host serves files straight from its storage (PyPI's CDN reads the bucket), so
hiding a file from the indexes is not enough: its bytes must not be in served storage before the
release is approved (invariant I1). :class:`GatedFileStorage` wraps the host's ``IFileStorage`` and
diverts uploads of gated projects into a quarantine:

* :class:`LocalQuarantine` (the default): a private directory; promoting hands the checked file to
  the host's own storage, whatever backend that is.
* :class:`S3Quarantine`: a bucket or prefix nobody serves; promoting is an S3 ``CopyObject`` into
  the public bucket, and the copy's SHA-256 is checked before the quarantined object is deleted.

This is the only module that imports boto3. Usage::

    quarantine = Quarantines(settings)(public=host_archive_storage)
    quarantine.store("ab/cd/ef.../acme-1.0.tar.gz", "/tmp/upload", {"project": "acme"})
    quarantine.promote("ab/cd/ef.../acme-1.0.tar.gz", sha256_hex)   # on approval
    quarantine.delete("ab/cd/ef.../acme-1.0.tar.gz")                # on rejection or expiry
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from zope.interface import Interface, implementer

from tpp_core import TPPError
from tpp_warehouse.settings import TPPSettings

__all__ = [
    "GatedFileStorage",
    "IQuarantine",
    "LocalQuarantine",
    "QuarantineError",
    "S3Quarantine",
    "Quarantines",
]

#: Warehouse stores a wheel's extracted METADATA (PEP 658) next to it under this suffix.
METADATA_SUFFIX = ".metadata"


class QuarantineError(TPPError):
    """Raised when quarantined bytes cannot be stored, promoted or deleted, or fail their check."""


class IQuarantine(Interface):
    """Private storage for files that await approval."""

    def store(path: str, file_path: str, meta: Mapping[str, object] | None) -> None:
        """Keep the bytes at ``file_path`` under ``path``. Raises QuarantineError."""

    def promote(path: str, sha256: str | None) -> None:
        """Move ``path`` into public storage, checking its SHA-256 (hex) when given, then delete it
        here. Raises QuarantineError (missing, or the bytes do not match)."""

    def delete(path: str) -> None:
        """Delete ``path``, if present. Raises QuarantineError."""

    def contains(path: str) -> bool:
        """Return whether ``path`` is quarantined."""


class PublicStorage(Protocol):
    """The part of a Warehouse ``IFileStorage`` the quarantine writes to."""

    def store(self, path: str, file_path: str, *, meta: Mapping[str, object] | None = None) -> None: ...


def _safe(path: str) -> PurePosixPath:
    # Host paths are relative ("ab/cd/<blake2>/<filename>"); anything else could escape the directory.
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        raise QuarantineError(f"refusing an unsafe storage path: {path!r}")
    return pure


def _sha256_of(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@implementer(IQuarantine)
class LocalQuarantine:
    """A private directory (``tpp.quarantine.url = /var/lib/tpp/quarantine``); ``public`` is the host's
    storage, which receives approved files exactly as it would have received the upload."""

    def __init__(self, directory: Path, public: PublicStorage) -> None:
        self._files = directory / "files"
        self._meta = directory / "meta"
        self._public = public

    def store(self, path: str, file_path: str, meta: Mapping[str, object] | None) -> None:
        target, meta_file = self._files / _safe(path), self._meta / (path + ".json")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            meta_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file_path, target)
            meta_file.write_text(json.dumps({k: str(v) for k, v in (meta or {}).items()}), encoding="utf-8")
        except OSError as error:
            raise QuarantineError(f"cannot quarantine {path}: {error}") from None

    def promote(self, path: str, sha256: str | None) -> None:
        for item, expected in ((path, sha256), (path + METADATA_SUFFIX, None)):
            source = self._files / _safe(item)
            if not source.exists():
                if item == path:
                    raise QuarantineError(f"{path} is not in the quarantine")
                continue
            if expected is not None and _sha256_of(source) != expected:
                raise QuarantineError(f"{path} does not match its approved sha256 {expected}; not published")
            meta = json.loads((self._meta / (item + ".json")).read_text(encoding="utf-8"))
            self._public.store(item, str(source), meta=meta)
        self.delete(path)

    def delete(self, path: str) -> None:
        for item in (path, path + METADATA_SUFFIX):
            try:
                (self._files / _safe(item)).unlink(missing_ok=True)
                (self._meta / (item + ".json")).unlink(missing_ok=True)
            except OSError as error:
                raise QuarantineError(f"cannot delete {item} from the quarantine: {error}") from None

    def contains(self, path: str) -> bool:
        return (self._files / _safe(path)).exists()


def _b64_sha256(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _location(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, "prefix/") as the settings normalized it."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, f"{prefix}/" if prefix else ""


def _public_location(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, "prefix"): the host's key is its prefix and the path joined
    with nothing between, as Warehouse's ``GenericBlobStorage._get_path`` does."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix


@implementer(IQuarantine)
class S3Quarantine:
    """A bucket or prefix that no one serves; approved objects are copied to the public bucket."""

    def __init__(self, client: Any, quarantine_url: str, public_url: str) -> None:
        self._s3 = client
        self._bucket, self._prefix = _location(quarantine_url)
        self._public_bucket, self._public_prefix = _public_location(public_url)

    def store(self, path: str, file_path: str, meta: Mapping[str, object] | None) -> None:
        # S3 user metadata must be ASCII; the host's meta (project, version, types) is informative only.
        metadata = {k: str(v) for k, v in (meta or {}).items() if str(v).isascii() and str(k).isascii()}
        with open(file_path, "rb") as body:
            self._call(
                "store",
                path,
                lambda: self._s3.put_object(
                    Bucket=self._bucket,
                    Key=self._prefix + str(_safe(path)),
                    Body=body,
                    ChecksumAlgorithm="SHA256",
                    Metadata=metadata,
                ),
            )

    def promote(self, path: str, sha256: str | None) -> None:
        if not self.contains(path):
            raise QuarantineError(f"{path} is not in the quarantine")
        items = [(path, sha256)]
        if self.contains(path + METADATA_SUFFIX):
            items.append((path + METADATA_SUFFIX, None))
        for item, expected in items:
            self._copy(item, expected)
        self.delete(path)

    def _copy(self, path: str, sha256: str | None) -> None:
        source_key, key = self._prefix + path, self._public_prefix + path
        source = self._call(
            "read", path, lambda: self._s3.head_object(Bucket=self._bucket, Key=source_key, ChecksumMode="ENABLED")
        )
        # If-Match: a source replaced since it was read is not copied (S3 honours it; moto does not).
        self._call(
            "promote",
            path,
            lambda: self._s3.copy_object(
                Bucket=self._public_bucket,
                Key=key,
                CopySource={"Bucket": self._bucket, "Key": source_key},
                CopySourceIfMatch=source["ETag"],
                MetadataDirective="COPY",
                ChecksumAlgorithm="SHA256",
            ),
        )
        copied = self._call(
            "check", path, lambda: self._s3.head_object(Bucket=self._public_bucket, Key=key, ChecksumMode="ENABLED")
        )
        expected = _b64_sha256(sha256) if sha256 is not None else source.get("ChecksumSHA256")
        if expected is None or copied.get("ChecksumSHA256") != expected:
            # The public copy is not what was approved: take it down before anyone fetches it.
            self._delete(self._public_bucket, key, path)
            raise QuarantineError(f"the public copy of {path} does not match its approved sha256; withdrawn")

    def delete(self, path: str) -> None:
        for item in (path, path + METADATA_SUFFIX):
            self._delete(self._bucket, self._prefix + str(_safe(item)), item)

    def _delete(self, bucket: str, key: str, path: str) -> None:
        self._call("delete", path, lambda: self._s3.delete_object(Bucket=bucket, Key=key))

    def contains(self, path: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_object(Bucket=self._bucket, Key=self._prefix + str(_safe(path)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise QuarantineError(f"cannot look up {path} in the quarantine: {error}") from None
        return True

    @staticmethod
    def _call(what: str, path: str, call: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (BotoCoreError, ClientError) as error:
            raise QuarantineError(f"cannot {what} {path} in S3: {error}") from None


class GatedFileStorage:
    """The host's ``IFileStorage``, except that uploads of gated projects go to the quarantine.

    Reads go to the host's storage only, so nothing quarantined is ever served. ``is_gated`` gets the
    project name from the ``meta`` Warehouse passes with every upload.
    """

    def __init__(self, inner: Any, quarantine: IQuarantine, is_gated: Callable[[str], bool]) -> None:
        self._inner = inner
        self._quarantine = quarantine
        self._is_gated = is_gated

    def store(self, path: str, file_path: str, *, meta: Mapping[str, object] | None = None) -> None:
        project = (meta or {}).get("project")
        if not isinstance(project, str):
            # Without the project there is no telling whether the file may be public: refuse.
            raise QuarantineError(f"storing {path} needs meta['project'] so TPP can tell whether it is gated")
        if self._is_gated(project):
            self._quarantine.store(path, file_path, meta)
        else:
            self._inner.store(path, file_path, meta=meta)

    def get(self, path: str) -> Any:
        return self._inner.get(path)

    def get_metadata(self, path: str) -> Any:
        return self._inner.get_metadata(path)

    def get_checksum(self, path: str) -> Any:
        return self._inner.get_checksum(path)


class Quarantines:
    """Builds the quarantine ``tpp.quarantine.url`` names, in front of a request's public storage;
    the S3 client is made once and shared (boto3 clients are thread-safe).

    :raises QuarantineError: if ``tpp.quarantine.url`` is not set.
    """

    def __init__(self, settings: TPPSettings) -> None:
        if settings.quarantine_url is None:
            raise QuarantineError("tpp.quarantine.url: is required for a Warehouse-shaped host")
        self._settings = settings
        self._client: Any = None

    def __call__(self, public: PublicStorage) -> IQuarantine:
        url, public_url = self._settings.quarantine_url, self._settings.quarantine_public_url
        assert url is not None, "checked when built"
        if not url.startswith("s3://"):
            return LocalQuarantine(Path(url), public)
        assert public_url is not None, "the settings require it with an s3:// quarantine"
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", endpoint_url=self._settings.s3_endpoint_url)
        return S3Quarantine(self._client, url, public_url)


def __dir__() -> list[str]:
    return __all__
