"""The host's file storage, shaped like ``warehouse.packaging.interfaces.IFileStorage`` and its
``LocalFileStorage`` and ``S3FileStorage``: what is stored here is what ``/packages/`` serves."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Self

from zope.interface import Interface, implementer


class IFileStorage(Interface):
    def get(path: str) -> IO[bytes]:
        """Return the file at ``path``; raises FileNotFoundError."""

    def store(path: str, file_path: str, *, meta: Mapping[str, object] | None = None) -> None:
        """Store the file at ``file_path`` under ``path``."""


@implementer(IFileStorage)
class LocalFileStorage:
    def __init__(self, base: str) -> None:
        self.base = Path(base)

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        return cls(request.registry.settings["files.path"])

    def get(self, path: str) -> IO[bytes]:
        return (self.base / path).open("rb")

    def store(self, path: str, file_path: str, *, meta: Mapping[str, object] | None = None) -> None:
        target = self.base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file_path, target)


@implementer(IFileStorage)
class S3FileStorage:
    """Keys are ``files.prefix`` and the path joined with nothing between, as Warehouse's
    ``GenericBlobStorage._get_path``."""

    def __init__(self, client: Any, bucket: str, prefix: str | None) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix or ""

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        settings = request.registry.settings
        return cls(request.registry["host.s3"], settings["files.bucket"], settings.get("files.prefix"))

    def get(self, path: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            body: IO[bytes] = self.client.get_object(Bucket=self.bucket, Key=self.prefix + path)["Body"]
        except ClientError:
            raise FileNotFoundError(path) from None
        return body

    def store(self, path: str, file_path: str, *, meta: Mapping[str, object] | None = None) -> None:
        self.client.upload_file(file_path, self.bucket, self.prefix + path)
