"""Unpadded base64url, the encoding of every WebAuthn and Web Push binary field."""

from __future__ import annotations

import base64
import re

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64u_encode(data: bytes) -> str:
    """Encode without padding, as browsers and py_webauthn do."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode padded or unpadded base64url; raises ValueError on characters outside the alphabet."""
    stripped = text.rstrip("=")
    if not _B64URL.fullmatch(stripped):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
