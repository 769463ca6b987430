"""The registry's VAPID key pair (RFC 8292): the only user of py_vapid.

Push services accept a message only when it is signed with the key the browser subscribed with, so
the key pair is generated once (``tpp vapid generate``) and kept; ``tpp.vapid.private_key`` names
the private key's PEM file, and pages hand the public key to ``pushManager.subscribe()``.

Usage::

    private_path, public_key = generate(Path("/etc/registry"))   # once, by the operator
    key = load(private_path)                                      # at start-up and in workers
    key.application_server_key                                    # for the browser
"""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid

if TYPE_CHECKING:
    from .settings import TPPSettings

__all__ = ["PRIVATE_KEY_NAME", "VapidKey", "VapidKeyError", "application_server_key", "generate", "load"]

#: The file ``generate`` writes the private key to; the public key goes beside it as ``.pub``.
PRIVATE_KEY_NAME = "tpp-vapid.pem"


class VapidKeyError(ValueError):
    """Raised when a VAPID key file cannot be read, is not a P-256 private key, or would be overwritten."""


@dataclass(frozen=True, slots=True)
class VapidKey:
    """A loaded key pair: the signer pywebpush uses, and the public key browsers subscribe with."""

    signer: Vapid = field(repr=False, compare=False)
    #: Unpadded base64url of the uncompressed P-256 point: ``applicationServerKey`` in the browser.
    application_server_key: str


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_key(signer: Vapid) -> str:
    return _b64u(signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


@functools.lru_cache(maxsize=8)
def load(path: str) -> VapidKey:
    """The key pair whose private key is the PEM file at ``path`` (read once per process).

    :raises VapidKeyError: naming the file, if it is missing, unreadable or not a P-256 private key.
    """
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise VapidKeyError(f"cannot read {path}: {error.strerror}") from None
    try:
        signer = Vapid.from_pem(pem)
    except Exception:  # py_vapid raises whatever cryptography raised, wrapped or not
        raise VapidKeyError(f"{path} is not a PEM private key; make one with `tpp vapid generate`") from None
    return VapidKey(signer=signer, application_server_key=_public_key(signer))


def application_server_key(settings: TPPSettings) -> str | None:
    """The public key pages subscribe with, or None when Web Push is off (no ``tpp.vapid.private_key``)."""
    if settings.vapid_private_key is None:
        return None
    return load(settings.vapid_private_key).application_server_key


def generate(directory: Path) -> tuple[Path, str]:
    """Write a new private key (mode 0600) and its public key into ``directory``.

    Returns the private key's path and the application server key.

    :raises VapidKeyError: if a key is already there: replacing it would silently end every
        subscription browsers made with the old one.
    """
    private_path = directory / PRIVATE_KEY_NAME
    signer = Vapid()
    signer.generate_keys()
    try:
        # O_EXCL: never replace a key in use; 0600: the private key is a secret.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise VapidKeyError(f"{private_path} exists; keep it, or remove it first to start over") from None
    except OSError as error:
        raise VapidKeyError(f"cannot write {private_path}: {error.strerror}") from None
    with os.fdopen(fd, "wb") as file:
        file.write(signer.private_pem())
    public_key = _public_key(signer)
    private_path.with_suffix(".pub").write_text(public_key + "\n", encoding="ascii")
    return private_path, public_key


def __dir__() -> list[str]:
    return __all__
