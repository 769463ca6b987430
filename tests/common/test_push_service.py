"""Proof that the loopback push service behaves like a real one, by sending to it with the real pywebpush.

Raw ``requests`` posts are used only where pywebpush cannot be made to send the broken request under test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import http_ece
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from tests.common.encoding import b64u_decode, b64u_encode
from tests.common.push_service import (
    MAX_BODY_BYTES,
    LoopbackPushService,
    Subscription,
)

PAYLOAD = {"type": "approval_request", "request_id": "req-42", "url": "https://tpp.example/r/req-42"}
URGENT = {"Urgency": "high", "Topic": "tpp-req-42"}


class VapidKey:
    """A sender's VAPID key pair in the forms TPP stores and publishes."""

    def __init__(self) -> None:
        self.vapid = Vapid()
        self.vapid.generate_keys()
        raw = self.vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
        self.private_b64u: str = b64u_encode(raw)
        point = self.vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.public_b64u: str = b64u_encode(point)

    def authorization(self, claims: dict[str, Any]) -> str:
        """A signed ``vapid t=...,k=...`` header for arbitrary claims (py_vapid fills in nothing but exp)."""
        return str(self.vapid.sign(dict(claims))["Authorization"])


@pytest.fixture
def service() -> Iterator[LoopbackPushService]:
    with LoopbackPushService() as svc:
        yield svc


@pytest.fixture(scope="module")
def vapid_key() -> VapidKey:
    return VapidKey()


def send(subscription: Subscription, key: VapidKey, data: str | None = None, **kwargs: Any) -> requests.Response:
    """Send like TPP will: fresh claims dict every call (webpush mutates it), ttl=3600, timeout=10."""
    options: dict[str, Any] = {"ttl": 3600, "timeout": 10, "headers": dict(URGENT)}
    options.update(kwargs)
    response: requests.Response = webpush(
        subscription_info=subscription.info,
        data=json.dumps(PAYLOAD) if data is None else data,
        vapid_private_key=key.private_b64u,
        vapid_claims={"sub": "mailto:ops@example.com"},
        **options,
    )
    return response


def raw_post(subscription: Subscription, authorization: str | None, *, ttl: str | None = "60") -> requests.Response:
    """A hand-made push request with a correctly encrypted body, so only the header under test is wrong."""
    body = http_ece.encrypt(
        b'{"raw": true}',
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64u_decode(subscription.p256dh),
        auth_secret=subscription.auth_secret,
        version="aes128gcm",
    )
    headers = {"Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream"}
    if ttl is not None:
        headers["TTL"] = ttl
    if authorization is not None:
        headers["Authorization"] = authorization
    return requests.post(subscription.endpoint, data=body, headers=headers, timeout=10)


def valid_claims(service: LoopbackPushService, **override: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "mailto:ops@example.com", "aud": service.url, "exp": int(time.time()) + 3600}
    claims.update(override)
    return claims


def test_subscription_info_is_what_the_browser_gives(service: LoopbackPushService) -> None:
    sub = service.subscribe()
    info = sub.info
    assert set(info) == {"endpoint", "expirationTime", "keys"}
    assert info["endpoint"] == sub.endpoint
    assert sub.endpoint.startswith(f"{service.url}/push/")
    assert info["expirationTime"] is None
    assert set(info["keys"]) == {"p256dh", "auth"}
    assert "=" not in info["keys"]["p256dh"] + info["keys"]["auth"]
    point = b64u_decode(info["keys"]["p256dh"])
    assert len(point) == 65
    assert point[0] == 4
    assert len(b64u_decode(info["keys"]["auth"])) == 16
    assert service.subscribe().endpoint != sub.endpoint


def test_delivery_decrypts_to_the_sent_payload(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    response = send(sub, vapid_key)
    assert response.status_code == 201
    [delivery] = service.wait_for(1)
    assert response.headers["Location"] == delivery.location
    assert delivery.token == sub.token
    assert delivery.endpoint == sub.endpoint
    assert delivery.status == 201
    assert delivery.error is None
    assert delivery.payload == json.dumps(PAYLOAD).encode()
    assert delivery.payload_json() == PAYLOAD
    assert delivery.vapid_ok is True
    assert delivery.vapid_claims is not None
    assert delivery.vapid_claims["aud"] == service.url
    assert delivery.vapid_claims["sub"] == "mailto:ops@example.com"
    assert delivery.vapid_claims["exp"] > time.time()
    assert delivery.vapid_public_key == vapid_key.public_b64u
    assert delivery.ttl == 3600
    assert delivery.urgency == "high"
    assert delivery.topic == "tpp-req-42"
    assert delivery.content_encoding == "aes128gcm"


def test_push_without_payload_is_accepted(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    response = webpush(
        subscription_info=sub.info,
        data=None,
        vapid_private_key=vapid_key.private_b64u,
        vapid_claims={"sub": "mailto:ops@example.com"},
        ttl=60,
        timeout=10,
    )
    assert response.status_code == 201
    [delivery] = service.deliveries
    assert delivery.vapid_ok
    assert delivery.payload is None
    assert delivery.content_encoding is None
    assert delivery.urgency is None


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription_raises(service: LoopbackPushService, vapid_key: VapidKey, status: int) -> None:
    sub = service.subscribe(status=status)
    with pytest.raises(WebPushException) as caught:
        send(sub, vapid_key)
    assert caught.value.response.status_code == status
    assert caught.value.retry_after is None
    [delivery] = service.deliveries
    assert delivery.status == status
    assert delivery.vapid_ok  # the request itself was fine; the subscription is what is gone
    assert delivery.payload_json() == PAYLOAD


def test_unknown_token_is_404(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    ghost = Subscription(f"{service.url}/push/nobody", "nobody", sub.private_key, sub.auth_secret)
    with pytest.raises(WebPushException) as caught:
        send(ghost, vapid_key)
    assert caught.value.response.status_code == 404
    [delivery] = service.deliveries
    assert delivery.token is None
    assert delivery.status == 404


def test_rate_limited_subscription_carries_retry_after(vapid_key: VapidKey) -> None:
    with LoopbackPushService(retry_after=17) as service:
        sub = service.subscribe(status=429)
        with pytest.raises(WebPushException) as caught:
            send(sub, vapid_key)
    assert caught.value.response.status_code == 429
    assert caught.value.retry_after == "17"


def test_fail_twice_then_succeed(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe(status=[503, 503, 201])
    for _attempt in range(2):
        with pytest.raises(WebPushException) as caught:
            send(sub, vapid_key)
        assert caught.value.response.status_code == 503
        assert caught.value.retry_after == "30"
    answers = [503, 503] + [send(sub, vapid_key).status_code for _attempt in range(2)]
    assert answers == [503, 503, 201, 201]  # the last scripted status repeats
    assert [d.status for d in service.wait_for(4)] == answers


def test_set_status_changes_answers_later(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    assert send(sub, vapid_key).status_code == 201
    service.set_status(sub, 410)
    with pytest.raises(WebPushException) as caught:
        send(sub, vapid_key)
    assert caught.value.response.status_code == 410
    with pytest.raises(ValueError, match="empty"):
        service.set_status(sub, [])
    other = LoopbackPushService()
    with other, pytest.raises(KeyError):
        other.set_status(sub, 201)


def test_bad_status_scripts_fail_at_setup(service: LoopbackPushService) -> None:
    with pytest.raises(ValueError, match="empty"):
        service.subscribe(status=[])
    with pytest.raises(ValueError, match="HTTP status"):
        service.subscribe(status=[503, 42])


def test_rejected_requests_do_not_consume_the_script(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe(status=[503, 201])
    assert raw_post(sub, None).status_code == 401
    assert raw_post(sub, vapid_key.authorization(valid_claims(service))).status_code == 503
    assert raw_post(sub, vapid_key.authorization(valid_claims(service))).status_code == 201


def test_raw_request_control_is_accepted(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    """The raw helper is sound: with a correct header the same request is accepted and decrypted."""
    sub = service.subscribe()
    response = raw_post(sub, vapid_key.authorization(valid_claims(service)))
    assert response.status_code == 201, response.text
    [delivery] = service.deliveries
    assert delivery.vapid_ok
    assert delivery.payload == b'{"raw": true}'


def test_missing_authorization_is_401(service: LoopbackPushService) -> None:
    sub = service.subscribe()
    response = raw_post(sub, None)
    assert response.status_code == 401
    [delivery] = service.deliveries
    assert delivery.status == 401
    assert delivery.vapid_ok is False
    assert delivery.payload is None
    assert "missing Authorization" in (delivery.error or "")


def test_key_other_than_the_signer_is_401(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    header = vapid_key.authorization(valid_claims(service))
    impostor = VapidKey().public_b64u
    forged = header.replace(f"k={vapid_key.public_b64u}", f"k={impostor}")
    assert forged != header
    response = raw_post(sub, forged)
    assert response.status_code == 401
    [delivery] = service.deliveries
    assert delivery.vapid_ok is False
    assert delivery.vapid_public_key == impostor
    assert delivery.vapid_claims is not None  # recorded for diagnosis even though not trusted
    assert "does not verify" in (delivery.error or "")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer abc",
        "vapid t=abc",
        "vapid t=a.b.c,k=AAAA",
        "WebPush eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.e30.AAAA",
    ],
)
def test_malformed_authorization_is_401(service: LoopbackPushService, authorization: str) -> None:
    sub = service.subscribe()
    assert raw_post(sub, authorization).status_code == 401
    assert service.deliveries[0].vapid_ok is False


def test_tampered_claims_are_401(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    header = vapid_key.authorization(valid_claims(service))
    jwt = header.split("t=", 1)[1].split(",", 1)[0]
    head, _claims, signature = jwt.split(".")
    evil = b64u_encode(json.dumps(valid_claims(service, sub="mailto:evil@example.com")).encode())
    assert raw_post(sub, header.replace(jwt, f"{head}.{evil}.{signature}")).status_code == 401


def test_aud_mismatch_is_refused(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    with pytest.raises(WebPushException) as caught:
        webpush(
            subscription_info=sub.info,
            data=json.dumps(PAYLOAD),
            vapid_private_key=vapid_key.private_b64u,
            vapid_claims={"sub": "mailto:ops@example.com", "aud": "https://fcm.googleapis.com"},
            ttl=3600,
            timeout=10,
        )
    assert caught.value.response.status_code == 403
    [delivery] = service.deliveries
    assert delivery.vapid_ok is False
    assert delivery.vapid_claims is not None
    assert delivery.vapid_claims["aud"] == "https://fcm.googleapis.com"
    assert delivery.payload is None


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"exp": int(time.time()) + 25 * 3600}, "24 h"),
        ({"sub": "ops@example.com"}, "sub"),
    ],
)
def test_bad_claims_are_403(
    service: LoopbackPushService, vapid_key: VapidKey, override: dict[str, Any], reason: str
) -> None:
    sub = service.subscribe()
    key = Vapid.from_raw(vapid_key.private_b64u.encode())
    key.conf["no-strict"] = True  # let py_vapid sign a bad sub; the push service must still catch it
    header = str(key.sign(valid_claims(service, **override))["Authorization"])
    response = raw_post(sub, header)
    assert response.status_code == 403
    assert reason in response.json()["message"]
    assert service.deliveries[0].vapid_ok is False


def test_subscription_bound_to_application_server_key(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    bound = service.subscribe(application_server_key=vapid_key.public_b64u)
    assert send(bound, vapid_key).status_code == 201
    with pytest.raises(WebPushException) as caught:
        send(bound, VapidKey())
    assert caught.value.response.status_code == 403


def test_legacy_aesgcm_is_415(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    with pytest.raises(WebPushException) as caught:
        send(sub, vapid_key, content_encoding="aesgcm")
    assert caught.value.response.status_code == 415
    [delivery] = service.deliveries
    assert delivery.vapid_ok
    assert delivery.content_encoding == "aesgcm"
    assert delivery.payload is None


def test_missing_ttl_is_400(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    assert raw_post(sub, vapid_key.authorization(valid_claims(service)), ttl=None).status_code == 400


@pytest.mark.parametrize("headers", [{"Topic": "not a valid topic!"}, {"Topic": "x" * 33}, {"Urgency": "asap"}])
def test_bad_topic_or_urgency_is_400(
    service: LoopbackPushService, vapid_key: VapidKey, headers: dict[str, str]
) -> None:
    sub = service.subscribe()
    with pytest.raises(WebPushException) as caught:
        send(sub, vapid_key, headers=headers)
    assert caught.value.response.status_code == 400


def test_body_over_4096_bytes_is_413(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    assert send(sub, vapid_key, data="x" * 3993).status_code == 201  # exactly one full 4096-byte record
    assert len(service.deliveries[0].body) == MAX_BODY_BYTES
    with pytest.raises(WebPushException) as caught:
        send(sub, vapid_key, data="x" * 3994)
    assert caught.value.response.status_code == 413


def test_body_for_another_subscription_is_400(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    mine, theirs = service.subscribe(), service.subscribe()
    misaddressed = {**theirs.info, "endpoint": mine.endpoint}
    with pytest.raises(WebPushException) as caught:
        webpush(
            subscription_info=misaddressed,
            data="secret",
            vapid_private_key=vapid_key.private_b64u,
            vapid_claims={"sub": "mailto:ops@example.com"},
            ttl=60,
            timeout=10,
        )
    assert caught.value.response.status_code == 400
    assert service.deliveries[0].payload is None


def test_concurrent_senders_are_all_recorded(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    subs = [service.subscribe() for _ in range(8)]
    threads = [threading.Thread(target=send, args=(sub, vapid_key, json.dumps({"n": n}))) for n, sub in enumerate(subs)]
    for thread in threads:
        thread.start()
    deliveries = service.wait_for(8)
    for thread in threads:
        thread.join()
    assert sorted(d.payload_json()["n"] for d in deliveries) == list(range(8))
    assert {d.token for d in deliveries} == {s.token for s in subs}


def test_wait_for_times_out_with_a_clear_message(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    send(service.subscribe(), vapid_key)
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"expected at least 2 push deliveries within 0.2 s, got 1"):
        service.wait_for(2, timeout=0.2)
    assert time.monotonic() - started < 2


def test_wait_for_wakes_on_a_later_delivery(service: LoopbackPushService, vapid_key: VapidKey) -> None:
    sub = service.subscribe()
    timer = threading.Timer(0.1, send, args=(sub, vapid_key))
    timer.start()
    try:
        [delivery] = service.wait_for(1, timeout=5)
    finally:
        timer.join()
    assert delivery.status == 201


def test_other_methods_are_not_recorded(service: LoopbackPushService) -> None:
    sub = service.subscribe()
    assert requests.get(sub.endpoint, timeout=10).status_code == 501
    assert service.deliveries == []


def test_stops_cleanly_and_only_once(vapid_key: VapidKey) -> None:
    before = set(threading.enumerate())
    service = LoopbackPushService()
    with pytest.raises(RuntimeError):
        _ = service.url
    with service:
        url = service.url
        send(service.subscribe(), vapid_key)
    assert set(threading.enumerate()) <= before
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/push/x", timeout=1)
    with pytest.raises(RuntimeError), service:
        pass
