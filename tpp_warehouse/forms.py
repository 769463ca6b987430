"""Reading what browsers and scripts send: JSON bodies, strictly, naming the field that is wrong.

Nothing here writes; a view parses its input with these, then calls one service method (I10).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tpp_core import InvalidInput, NotFound

__all__ = [
    "MAX_BODY",
    "ceremony_answer",
    "json_object",
    "optional_text",
    "record_id",
    "required_field",
    "required_text",
]

#: The largest JSON body TPP's endpoints read; a WebAuthn answer is a few KiB (the service caps a
#: credential at 16 KiB), so anything much larger is refused before it is parsed.
MAX_BODY = 64 * 1024


def json_object(request: Any) -> dict[str, Any]:
    """The request's body as a JSON object.

    :raises InvalidInput: if the body is too large, not JSON, or not an object.
    """
    # Read at most one byte more than allowed from the stream itself: ``request.body`` would first
    # copy a body of any size (to a temporary file, past 10 KiB).
    if request.is_body_seekable:
        request.body_file_raw.seek(0)
    body = request.body_file.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise InvalidInput(f"the request body is larger than {MAX_BODY} bytes")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidInput("the request body is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"the request body must be a JSON object, got {_kind(value)}")
    return value


def required_field(request: Any, name: str, missing: str) -> str:
    """The form field ``name`` as stripped text.

    :raises InvalidInput: with the message ``missing`` if it is missing, empty, sent twice, or a file.
    """
    values = request.POST.getall(name)
    if len(values) != 1 or not isinstance(values[0], str) or not values[0].strip():
        raise InvalidInput(missing)
    return str(values[0]).strip()


def required_text(body: dict[str, Any], name: str, *, where: str = "") -> str:
    """The text field ``name`` of ``body``.

    >>> required_text({"verdict": 1}, "verdict")
    Traceback (most recent call last):
    ...
    tpp_core.errors.InvalidInput: "verdict" must be text, got a number

    :raises InvalidInput: naming the field if it is missing or not a string.
    """
    label = f"{where}.{name}" if where else name
    if name not in body:
        raise InvalidInput(f'"{label}" is missing')
    value = body[name]
    if not isinstance(value, str):
        raise InvalidInput(f'"{label}" must be text, got {_kind(value)}')
    return value


def optional_text(body: dict[str, Any], name: str) -> str:
    """The text field ``name`` of ``body``, or "" if it is missing or null.

    :raises InvalidInput: naming the field if it is present but not a string.
    """
    if body.get(name) is None:
        return ""
    return required_text(body, name)


def ceremony_answer(body: dict[str, Any], name: str) -> tuple[str, str]:
    """The ``{"id", "credential"}`` object ``name`` of ``body``: a ceremony id and the credential as
    JSON text. The credential may come as JSON text or as the object itself; the service checks its
    size and shape.

    >>> ceremony_answer({"ceremony": {"id": "c1", "credential": {"type": "public-key"}}}, "ceremony")
    ('c1', '{"type": "public-key"}')

    :raises InvalidInput: naming the field if it is missing or has the wrong type.
    """
    if name not in body:
        raise InvalidInput(f'"{name}" is missing')
    answer = body[name]
    if not isinstance(answer, dict):
        raise InvalidInput(f'"{name}" must be an object with "id" and "credential", got {_kind(answer)}')
    ceremony_id = required_text(answer, "id", where=name)
    if "credential" not in answer:
        raise InvalidInput(f'"{name}.credential" is missing')
    credential = answer["credential"]
    if isinstance(credential, dict):
        credential = json.dumps(credential)
    elif not isinstance(credential, str):
        raise InvalidInput(f'"{name}.credential" must be an object or JSON text, got {_kind(credential)}')
    return ceremony_id, credential


# Database ids are 64-bit at most; a longer number would overflow the driver instead of not matching.
_RECORD_ID = re.compile(r"[0-9]{1,18}")


def record_id(value: str, unknown: str) -> int:
    """The database id in a URL segment.

    >>> record_id("12", "no such device")
    12
    >>> record_id("99999999999999999999", "no such device")
    Traceback (most recent call last):
    ...
    tpp_core.errors.NotFound: no such device

    :raises NotFound: with the message ``unknown``, the same as the service's for an id that is not
        yours, so a malformed id tells nothing more than a wrong one.
    """
    if not _RECORD_ID.fullmatch(value):
        raise NotFound(unknown)
    return int(value)


def _kind(value: object) -> str:
    """The JSON name of a value's type, for messages that must not echo large input."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "an array" if isinstance(value, list) else "an object"


def __dir__() -> list[str]:
    return __all__
