"""The pywebpush wrapper against the loopback push service: what goes on the wire, and how each
answer is sorted into gone, deferred (retry) or refused (do not retry)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.common.notifications import SUBJECT
from tests.common.push_service import LoopbackPushService, Subscription
from tpp_warehouse.push import PushDeferred, PushRefused, SubscriptionGone, send
from tpp_warehouse.vapid import VapidKey, VapidKeyError, generate, load

PAYLOAD = {"request": "ab12", "reason": "approval-needed", "url": "https://registry.example/tpp/requests/ab12"}


@pytest.fixture
def key(tmp_path: Path) -> VapidKey:
    return load(str(generate(tmp_path)[0]))


@pytest.fixture
def service() -> Iterator[LoopbackPushService]:
    with LoopbackPushService(retry_after=17) as svc:
        yield svc


def push(subscription: Subscription | dict[str, object], key: VapidKey) -> None:
    info = subscription.info if isinstance(subscription, Subscription) else subscription
    send(info, PAYLOAD, key=key, subject=SUBJECT, ttl=600, urgency="high", topic="t" * 32)


def test_a_message_is_encrypted_signed_and_carries_its_headers(service: LoopbackPushService, key: VapidKey) -> None:
    push(service.subscribe(application_server_key=key.application_server_key), key)
    [delivery] = service.deliveries
    assert delivery.status == 201
    assert delivery.vapid_ok
    assert delivery.vapid_claims is not None
    assert delivery.vapid_claims["sub"] == SUBJECT
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (600, "high", "t" * 32)
    assert delivery.content_encoding == "aes128gcm"
    assert delivery.payload_json() == PAYLOAD


def test_each_push_service_gets_its_own_audience(key: VapidKey) -> None:
    # pywebpush writes "aud" into the claims it is given; a shared dict would carry the first one on.
    with LoopbackPushService() as first, LoopbackPushService() as second:
        push(first.subscribe(), key)
        push(second.subscribe(), key)
        assert [d.vapid_claims["aud"] for d in (*first.deliveries, *second.deliveries)] == [first.url, second.url]  # type: ignore[index]


@pytest.mark.parametrize("status", [404, 410])
def test_gone(service: LoopbackPushService, key: VapidKey, status: int) -> None:
    with pytest.raises(SubscriptionGone) as raised:
        push(service.subscribe(status=status), key)
    assert raised.value.status == status


@pytest.mark.parametrize(("status", "retry_after"), [(429, 17), (503, 17), (500, None)])
def test_deferred(service: LoopbackPushService, key: VapidKey, status: int, retry_after: int | None) -> None:
    with pytest.raises(PushDeferred) as raised:
        push(service.subscribe(status=status), key)
    assert (raised.value.status, raised.value.retry_after) == (status, retry_after)


def test_an_unreachable_push_service_is_deferred(service: LoopbackPushService, key: VapidKey) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    # Nothing listens on that port any more: the connection is refused.
    info = {**service.subscribe().info, "endpoint": f"http://127.0.0.1:{port}/push/x"}
    with pytest.raises(PushDeferred, match="push service unreachable: ConnectionError"):
        push(info, key)


@pytest.mark.parametrize("status", [400, 413])
def test_refused(service: LoopbackPushService, key: VapidKey, status: int) -> None:
    with pytest.raises(PushRefused) as raised:
        push(service.subscribe(status=status), key)
    assert raised.value.status == status


def test_a_subscription_made_with_another_key_is_refused(service: LoopbackPushService, key: VapidKey) -> None:
    with pytest.raises(PushRefused, match="403"):
        push(service.subscribe(application_server_key="B" * 87), key)


def test_keys_that_are_no_p256_point_are_refused(service: LoopbackPushService, key: VapidKey) -> None:
    info = service.subscribe().info
    info["keys"]["p256dh"] = "BA" + "A" * 85  # 65 bytes, not on the curve
    with pytest.raises(PushRefused, match="unusable subscription"):
        push(info, key)
    assert service.deliveries == []


def test_vapid_keys_name_the_file_that_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(VapidKeyError, match=r"cannot read .*missing\.pem: No such file"):
        load(str(tmp_path / "missing.pem"))
    private_key, public_key = generate(tmp_path)
    assert load(str(private_key)).application_server_key == public_key
    with pytest.raises(VapidKeyError, match="exists; keep it"):
        generate(tmp_path)
