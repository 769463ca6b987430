"""Web Push: the only user of pywebpush. Checks subscriptions, sends one message, sorts the failures.

A message is encrypted (aes128gcm, RFC 8291) for one browser subscription and signed with the
registry's VAPID key. What it carries is decided by :mod:`.delivery`: an opaque id and a URL (I9).

Usage::

    subscription = check_subscription(body["subscription"])   # from the browser; InvalidInput if bad
    try:
        send(subscription, {"request": "ab12", "url": "https://…"}, key=key, subject="mailto:ops@…",
             ttl=86400, urgency="high", topic="…")
    except SubscriptionGone:    # 404/410: the browser unsubscribed; forget the subscription
    except PushDeferred:        # 429, 5xx, network: try again later
    except PushRefused:         # anything else: our request is wrong; retrying cannot help
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests

from tpp_core import InvalidInput

from .vapid import VapidKey

if TYPE_CHECKING:
    from pywebpush import WebPushException

__all__ = [
    "MAX_SUBSCRIPTION",
    "TIMEOUT",
    "PushDeferred",
    "PushError",
    "PushRefused",
    "SubscriptionGone",
    "check_subscription",
    "connections",
    "send",
]

#: Seconds to wait for a push service: pywebpush's default is to wait for ever.
TIMEOUT: Final = 10.0

#: The most characters of a subscription's endpoint; real ones are a few hundred.
MAX_ENDPOINT: Final = 2048

#: The largest subscription JSON accepted, in characters; real ones are about 400.
MAX_SUBSCRIPTION: Final = 4096


class PushError(Exception):
    """Raised when a push service did not accept a message; ``status`` is its HTTP answer, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SubscriptionGone(PushError):
    """Raised on 404 or 410: the subscription no longer exists, and never will again."""


class PushDeferred(PushError):
    """Raised on 429, 5xx, a timeout or a network error: the same message may succeed later.

    ``retry_after`` is the push service's Retry-After in seconds, when it gave one as a number.
    """

    def __init__(self, message: str, status: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class PushRefused(PushError):
    """Raised on any other refusal (400, 401, 403, 413 …): the message or our VAPID key is wrong."""


def _b64u_bytes(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidInput(f'"subscription.keys.{name}" must be base64url text')
    stripped = value.rstrip("=")
    try:
        return base64.b64decode(stripped + "=" * (-len(stripped) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f'"subscription.keys.{name}" is not base64url') from None


def check_subscription(value: object) -> dict[str, Any]:
    """The browser's ``PushSubscription.toJSON()`` in the form TPP stores, checked.

    >>> check_subscription({"endpoint": "http://push.example/x", "keys": {}})
    Traceback (most recent call last):
    ...
    tpp_core.errors.InvalidInput: "subscription.endpoint" must be an https:// URL, got 'http://push.example/x'

    :raises InvalidInput: naming the field that is missing, malformed or too large. Push services
        are always https: anything else would make the registry post to an address a user chose.
    """
    if not isinstance(value, dict):
        raise InvalidInput('"subscription" must be an object, as PushSubscription.toJSON() gives')
    if len(json.dumps(value)) > MAX_SUBSCRIPTION:
        raise InvalidInput(f'"subscription" is larger than {MAX_SUBSCRIPTION} characters')
    endpoint = value.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT:
        raise InvalidInput(f'"subscription.endpoint" must be a URL of at most {MAX_ENDPOINT} characters')
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc or not endpoint.isprintable():
        raise InvalidInput(f'"subscription.endpoint" must be an https:// URL, got {endpoint[:80]!r}')
    keys = value.get("keys")
    if not isinstance(keys, dict):
        raise InvalidInput('"subscription.keys" must be an object with "p256dh" and "auth"')
    p256dh = _b64u_bytes(keys.get("p256dh"), "p256dh")
    if len(p256dh) != 65 or p256dh[0] != 4:
        raise InvalidInput('"subscription.keys.p256dh" must be an uncompressed P-256 point (65 bytes)')
    if len(_b64u_bytes(keys.get("auth"), "auth")) != 16:
        raise InvalidInput('"subscription.keys.auth" must be 16 bytes')
    expiration = value.get("expirationTime")
    if expiration is not None and (not isinstance(expiration, int | float) or isinstance(expiration, bool)):
        raise InvalidInput('"subscription.expirationTime" must be null or a number')
    return {
        "endpoint": endpoint,
        "expirationTime": expiration,
        "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
    }


def connections() -> requests.Session:
    """An HTTP session for :func:`send`: messages sent through one share open connections."""
    return requests.Session()


def send(
    subscription: Mapping[str, Any],
    payload: Mapping[str, str],
    *,
    key: VapidKey,
    subject: str,
    ttl: int,
    urgency: str,
    topic: str,
    http: requests.Session | None = None,
) -> None:
    """Encrypt ``payload`` (as JSON) for ``subscription`` and post it to its push service.

    ``topic`` lets a newer message with the same topic replace one the device has not fetched yet.
    ``http``, a session shared by the messages of a job, keeps connections to push services open
    between them (one TLS handshake with FCM, not one per message).

    :raises SubscriptionGone: on 404 or 410.
    :raises PushDeferred: on 429, 5xx, a timeout or a network error.
    :raises PushRefused: on any other answer above 202, or a subscription pywebpush cannot use.
    """
    # Imported here: pywebpush brings aiohttp (a tenth of a second), which only a sending process needs.
    from pywebpush import WebPushException, webpush

    try:
        webpush(
            subscription_info=dict(subscription),
            data=json.dumps(dict(payload), separators=(",", ":")),
            vapid_private_key=key.signer,
            # A fresh dict on every call: webpush() writes "aud" and "exp" into it, and a reused one
            # would carry one push service's audience to the next.
            vapid_claims={"sub": subject},
            content_encoding="aes128gcm",
            ttl=ttl,
            timeout=TIMEOUT,
            headers={"Urgency": urgency, "Topic": topic},
            requests_session=http,
        )
    except WebPushException as error:
        raise _classify(error) from None
    except requests.RequestException as error:
        raise PushDeferred(f"push service unreachable: {type(error).__name__}: {error}") from None
    except ValueError as error:  # keys that are not a P-256 point, bad base64: the browser's data is wrong
        raise PushRefused(f"unusable subscription: {error}") from None


def _classify(error: WebPushException) -> PushError:
    status = error.status_code
    message = f"push service answered {status}" if status is not None else f"push failed: {error.message}"
    if status in (404, 410):
        return SubscriptionGone(message, status)
    if status == 429 or (status is not None and status >= 500):
        after = error.retry_after
        return PushDeferred(message, status, int(after) if after is not None and after.isdigit() else None)
    return PushRefused(message, status)


def __dir__() -> list[str]:
    return __all__
