"""A loopback Web Push service (the receiving side of RFC 8030) for tests.

Real push services (FCM, Mozilla autopush, Apple) cannot be reached from tests, and a mock of ``webpush()``
would prove nothing about VAPID or encryption. This module runs a small HTTP server on 127.0.0.1 that acts like
a push service: it hands out "browser" subscriptions, checks the VAPID ``Authorization`` header (RFC 8292),
validates the RFC 8030 headers, decrypts the aes128gcm body (RFC 8291) with the subscription's private key and
records every request as a :class:`Delivery`, so a test can assert on what the sender really put on the wire.

Usage::

    from pywebpush import webpush

    with LoopbackPushService() as service:
        subscription = service.subscribe()                 # answers 201
        gone = service.subscribe(status=410)               # a browser that has unsubscribed
        flaky = service.subscribe(status=[503, 503, 201])  # fails twice, then accepts
        webpush(subscription.info, data='{"id": 42}', vapid_private_key=VAPID_PRIVATE_B64U,
                vapid_claims={"sub": "mailto:ops@example.com"}, ttl=3600, timeout=10)
        [delivery] = service.wait_for(1)
        assert delivery.status == 201 and delivery.vapid_ok
        assert delivery.payload == b'{"id": 42}'

Checks happen in the order a push service would apply them; the first failing one decides the answer:

* path is not ``/push/<known token>``: 404;
* VAPID header missing, malformed, not ``vapid t=<jwt>,k=<key>``, not ES256, or the signature does not verify
  with ``k``: 401;
* ``k`` is not the ``application_server_key`` the subscription was made with (when one was given): 403;
* claims: ``aud`` is not this service's origin, ``exp`` missing, past or more than 24 h ahead, or ``sub`` is not
  a ``mailto:`` / ``https:`` URI: 403;
* ``TTL`` missing or not a non-negative integer, ``Urgency`` not one of very-low/low/normal/high, ``Topic``
  longer than 32 characters or outside the base64url alphabet: 400;
* body larger than 4096 bytes: 413; a body with a ``Content-Encoding`` other than ``aes128gcm``: 415;
  a body that does not decrypt: 400;
* otherwise the subscription's scripted status (201 unless set), with ``Location`` on 201 and ``Retry-After``
  on 429 and 503.

A scripted status is consumed only by requests that pass every check, so "fail twice then succeed" counts real
attempts, not rejected ones.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self, cast
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .encoding import b64u_decode, b64u_encode

__all__ = ["Delivery", "LoopbackPushService", "Subscription"]

MAX_BODY_BYTES: Final = 4096
"""RFC 8030 section 7.2: push services only promise 4096 bytes of (encrypted) body."""

MAX_EXP_AHEAD_SECONDS: Final = 24 * 60 * 60
"""RFC 8292 section 2: ``exp`` must not be more than 24 hours after the request."""

_URGENCIES: Final = frozenset({"very-low", "low", "normal", "high"})
_TOPIC_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SUB_RE: Final = re.compile(r"(mailto:[^@\s]+@[^@\s]+|https://[^\s]+)", re.IGNORECASE)
_READ_LIMIT: Final = 1 << 20
"""Bodies larger than this are not even read; the connection is closed after the 413."""


@dataclass(frozen=True)
class Subscription:
    """A browser-side push subscription: what the page sends to the server, plus the keys only the browser has.

    The private key and auth secret are kept so the loopback service can decrypt what a sender encrypted for
    this subscription, exactly as the browser would.
    """

    endpoint: str
    token: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)
    auth_secret: bytes = field(repr=False)
    application_server_key: str | None = None

    @property
    def p256dh(self) -> str:
        """The subscription's public key as the browser reports it (unpadded base64url uncompressed point)."""
        point = self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return b64u_encode(point)

    @property
    def auth(self) -> str:
        """The auth secret as the browser reports it (unpadded base64url of 16 bytes)."""
        return b64u_encode(self.auth_secret)

    @property
    def info(self) -> dict[str, Any]:
        """A fresh copy of ``PushSubscription.toJSON()``: what a sender passes as ``subscription_info``."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass(frozen=True)
class Delivery:
    """One POST the service received, with what it answered and what it could verify.

    ``vapid_ok`` is True only when the VAPID header was fully accepted (signature, key and claims);
    ``vapid_claims`` and ``vapid_public_key`` are recorded whenever they could be parsed, even when not
    accepted, so a failing test can show what was sent. ``payload`` is the decrypted plaintext, or None when
    there was no body or it was not decrypted.
    """

    endpoint: str
    token: str | None
    status: int
    error: str | None
    vapid_ok: bool
    vapid_claims: dict[str, Any] | None = field(hash=False)
    vapid_public_key: str | None
    ttl: int | None
    urgency: str | None
    topic: str | None
    content_encoding: str | None
    body: bytes = field(repr=False)
    payload: bytes | None
    location: str | None

    def payload_json(self) -> Any:
        """The decrypted payload parsed as JSON; fails loudly when there is none."""
        if self.payload is None:
            raise AssertionError(f"delivery has no decrypted payload (status {self.status}: {self.error})")
        return json.loads(self.payload)


class _Rejected(Exception):
    """A check failed: the request is answered with ``status`` and the message in the error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Vapid:
    """What could be read from the Authorization header; filled in as far as parsing got."""

    claims: dict[str, Any] | None = None
    public_key: str | None = None


@dataclass
class _Entry:
    """Mutable per-subscription state, guarded by the service's lock."""

    subscription: Subscription
    statuses: deque[int]

    def next_status(self) -> int:
        """Consume one scripted status; the last one repeats forever."""
        return self.statuses.popleft() if len(self.statuses) > 1 else self.statuses[0]


def _status_script(status: int | Sequence[int]) -> deque[int]:
    """Validate a status or status sequence once, so a typo fails at set-up and not inside the server thread."""
    script = deque([status] if isinstance(status, int) else status)
    if not script:
        raise ValueError("status sequence must not be empty")
    for code in script:
        if not isinstance(code, int) or not 200 <= code <= 599:
            raise ValueError(f"not an HTTP status a push service answers with: {code!r}")
    return script


def _verify_vapid(authorization: str | None, origin: str, expected_key: str | None, found: _Vapid) -> None:
    """Check an RFC 8292 ``vapid t=...,k=...`` header; fills ``found`` and raises _Rejected on failure."""
    if not authorization:
        raise _Rejected(401, "missing Authorization header")
    scheme, _, params = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise _Rejected(401, f"unsupported Authorization scheme {scheme!r}; expected 'vapid'")
    parts: dict[str, str] = {}
    for item in params.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name.strip().lower()] = value.strip()
    token, key = parts.get("t"), parts.get("k")
    if not token or not key:
        raise _Rejected(401, "VAPID Authorization needs both t= and k=")
    found.public_key = key
    segments = token.split(".")
    if len(segments) != 3:
        raise _Rejected(401, "VAPID token is not a JWS compact serialisation")
    try:
        header = json.loads(b64u_decode(segments[0]))
        claims = json.loads(b64u_decode(segments[1]))
        signature = b64u_decode(segments[2])
    except ValueError as exc:  # also binascii.Error, UnicodeDecodeError and JSONDecodeError
        raise _Rejected(401, f"VAPID token does not decode: {exc}") from exc
    if isinstance(claims, dict):
        found.claims = claims
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise _Rejected(401, "VAPID token must be signed with ES256")
    if not isinstance(claims, dict):
        raise _Rejected(401, "VAPID claims are not a JSON object")
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64u_decode(key))
    except ValueError as exc:
        raise _Rejected(401, f"VAPID k= is not a P-256 public key: {exc}") from exc
    if len(signature) != 64:
        raise _Rejected(401, "VAPID signature is not 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{segments[0]}.{segments[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise _Rejected(401, "VAPID signature does not verify with k=") from exc

    if expected_key is not None and key.rstrip("=") != expected_key.rstrip("="):
        raise _Rejected(403, "VAPID key is not the applicationServerKey this subscription was made with")
    if claims.get("aud") != origin:
        raise _Rejected(403, f"VAPID aud {claims.get('aud')!r} is not this push service ({origin!r})")
    exp = claims.get("exp")
    now = time.time()
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _Rejected(403, f"VAPID exp must be a NumericDate, got {exp!r}")
    if exp <= now:
        raise _Rejected(403, f"VAPID token expired at {exp} (now {int(now)})")
    if exp > now + MAX_EXP_AHEAD_SECONDS:
        raise _Rejected(403, f"VAPID exp {exp} is more than 24 h ahead")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _SUB_RE.fullmatch(sub):
        raise _Rejected(403, f"VAPID sub must be a mailto: or https: URI, got {sub!r}")


class _Server(ThreadingHTTPServer):
    """Tracks handler threads (daemon_threads off) so ``server_close()`` joins them: no leaked threads."""

    daemon_threads = False
    block_on_close = True
    # socketserver's default backlog of 5 drops connections from a sender with more in flight, which
    # then waits a second to retry: a real push service is not that small.
    request_queue_size = 128

    def __init__(self, service: LoopbackPushService) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.service = service

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up; handler bugs already become recorded 500s."""


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0 (one request per connection) so a handler thread never waits on an idle keep-alive socket."""

    protocol_version = "HTTP/1.0"
    timeout = 10  # a client that connects and never sends cannot hang shutdown for ever
    server_version = "LoopbackPush/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; tests read ``service.deliveries`` instead."""

    def do_POST(self) -> None:
        """Receive one push message: check, decrypt, record, answer."""
        service = cast(_Server, self.server).service
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = _content_length(headers)
        if length is None or length > _READ_LIMIT:
            self.close_connection = True  # the unread body must not be taken for the next request
            body = b""
        else:
            body = self.rfile.read(length)
        status, response_headers, message = service._receive(self.path, headers, body, length)
        payload = b"" if message is None else json.dumps({"code": status, "message": message}).encode()
        self.send_response(status)
        for name, value in response_headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class LoopbackPushService:
    """A push service on 127.0.0.1 that records and verifies every push message sent to its subscriptions.

    Use it as a context manager; leaving the block stops the server, joins its threads and closes its socket.
    """

    def __init__(self, *, retry_after: int = 30) -> None:
        """``retry_after`` is the Retry-After value (seconds) sent with scripted 429 and 503 answers."""
        self._retry_after = retry_after
        self._cond = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._entries: dict[str, _Entry] = {}
        self._message_ids = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def __enter__(self) -> Self:
        """Bind a free port and serve in a background thread."""
        if self._server is not None or self._closed:
            raise RuntimeError("a LoopbackPushService can be started only once")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"loopback-push-{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving, join the serving thread and every handler thread, close the socket."""
        self._closed = True
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.server_close()

    @property
    def url(self) -> str:
        """The service origin, ``http://127.0.0.1:PORT``; also the only ``aud`` it accepts."""
        if self._server is None:
            raise RuntimeError("LoopbackPushService is not started; use it in a with block")
        return f"http://127.0.0.1:{self._server.server_port}"

    def subscribe(
        self, *, status: int | Sequence[int] = 201, application_server_key: str | None = None
    ) -> Subscription:
        """Make a new browser subscription (fresh P-256 key pair and 16-byte auth secret).

        ``status`` is what the endpoint answers to valid requests: one code, or a sequence consumed one per
        valid request whose last code then repeats (``[503, 503, 201]`` fails twice, then accepts).
        ``application_server_key`` (unpadded base64url public key), when given, is the only VAPID key this
        subscription accepts, as browsers bind a subscription to the key passed to ``pushManager.subscribe``.
        """
        script = _status_script(status)
        token = secrets.token_urlsafe(24)
        subscription = Subscription(
            endpoint=f"{self.url}/push/{token}",
            token=token,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        with self._cond:
            self._entries[token] = _Entry(subscription, script)
        return subscription

    def set_status(self, subscription: Subscription, status: int | Sequence[int]) -> None:
        """Replace what a subscription answers from now on (same rules as ``subscribe(status=...)``)."""
        script = _status_script(status)
        with self._cond:
            entry = self._entries.get(subscription.token)
            if entry is None or entry.subscription != subscription:
                raise KeyError(f"not a subscription of this service: {subscription.endpoint}")
            entry.statuses = script

    @property
    def deliveries(self) -> list[Delivery]:
        """A snapshot of every POST received so far, in arrival order."""
        with self._cond:
            return list(self._deliveries)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Block until at least ``count`` POSTs were received (senders may run in other threads or workers).

        Returns the snapshot of all deliveries; raises AssertionError naming what did arrive on timeout.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._deliveries) >= count, timeout=timeout):
                seen = [(d.status, d.token, d.error) for d in self._deliveries]
                raise AssertionError(
                    f"expected at least {count} push deliveries within {timeout} s, got {len(seen)}: {seen}"
                )
            return list(self._deliveries)

    def _receive(
        self, path: str, headers: Mapping[str, str], body: bytes, length: int | None
    ) -> tuple[int, dict[str, str], str | None]:
        """Check and record one request; returns (status, response headers, error message or None).

        ``headers`` has lower-case names; ``length`` is the Content-Length, None when missing or malformed.
        """
        token: str | None = None
        vapid = _Vapid()
        vapid_ok = False
        payload: bytes | None = None
        location: str | None = None
        response_headers: dict[str, str] = {}
        error: str | None = None
        ttl = _parse_ttl(headers.get("ttl"))
        encoding = headers.get("content-encoding")
        try:
            match = re.fullmatch(r"/push/([A-Za-z0-9_-]+)", urlsplit(path).path)
            with self._cond:
                entry = self._entries.get(match.group(1)) if match else None
            if entry is None:
                raise _Rejected(404, f"no such subscription: {path}")
            subscription = entry.subscription
            token = subscription.token
            _verify_vapid(headers.get("authorization"), self.url, subscription.application_server_key, vapid)
            vapid_ok = True
            _check_headers(headers, ttl)
            if length is None:
                raise _Rejected(400, "a push message needs a valid Content-Length")
            if length > MAX_BODY_BYTES:
                raise _Rejected(413, f"body of {length} bytes exceeds {MAX_BODY_BYTES}")
            if body:
                if (encoding or "").strip().lower() != "aes128gcm":
                    raise _Rejected(415, f"Content-Encoding must be aes128gcm, got {encoding!r}")
                payload = _decrypt(body, subscription)
            with self._cond:
                status = entry.next_status()
                if status == 201:
                    self._message_ids += 1
                    location = f"{self.url}/message/{self._message_ids}"
                    response_headers["Location"] = location
            if status in (429, 503):
                response_headers["Retry-After"] = str(self._retry_after)
            if status >= 300:
                error = f"scripted status {status}"
        except _Rejected as rejected:
            status, error = rejected.status, rejected.message
        except Exception as exc:
            status, error = 500, f"loopback push service error: {exc!r}"
        delivery = Delivery(
            endpoint=f"{self.url}{path}",
            token=token,
            status=status,
            error=error,
            vapid_ok=vapid_ok,
            vapid_claims=vapid.claims,
            vapid_public_key=vapid.public_key,
            ttl=ttl,
            urgency=headers.get("urgency"),
            topic=headers.get("topic"),
            content_encoding=encoding,
            body=body,
            payload=payload,
            location=location,
        )
        with self._cond:  # recorded before answering, so a sender that got its response can assert at once
            self._deliveries.append(delivery)
            self._cond.notify_all()
        return status, response_headers, error


def _content_length(headers: Mapping[str, str]) -> int | None:
    """Content-Length as a non-negative integer; absent means an empty body unless the body is chunked."""
    value = headers.get("content-length")
    if value is None:
        return None if "transfer-encoding" in headers else 0
    value = value.strip()
    return int(value) if value.isdigit() else None


def _parse_ttl(value: str | None) -> int | None:
    """TTL as an integer, or None when missing or malformed (the request is then refused)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _check_headers(headers: Mapping[str, str], ttl: int | None) -> None:
    """RFC 8030 sections 5.2-5.4: TTL is required; Urgency and Topic must be well formed when present."""
    if ttl is None:
        raise _Rejected(400, f"TTL header missing or not a non-negative integer: {headers.get('ttl')!r}")
    urgency = headers.get("urgency")
    if urgency is not None and urgency not in _URGENCIES:
        raise _Rejected(400, f"Urgency must be one of {sorted(_URGENCIES)}, got {urgency!r}")
    topic = headers.get("topic")
    if topic is not None and not _TOPIC_RE.fullmatch(topic):
        raise _Rejected(400, f"Topic must be 1-32 base64url characters, got {topic!r}")


def _decrypt(body: bytes, subscription: Subscription) -> bytes:
    """Decrypt as the browser would (RFC 8291); the salt and sender key are in the aes128gcm body header."""
    try:
        plaintext = http_ece.decrypt(
            body,
            private_key=subscription.private_key,
            auth_secret=subscription.auth_secret,
            version="aes128gcm",
        )
    except Exception as exc:  # ECEException, cryptography's InvalidTag, struct.error on a truncated header
        raise _Rejected(400, f"body does not decrypt for this subscription: {exc!r}") from exc
    return bytes(plaintext)
