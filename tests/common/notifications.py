"""Web Push in tests: an app's registry with a VAPID key, and devices that listen on the loopback
push service, so a test sees exactly what a phone would::

    with LoopbackPushService() as service:
        app = make_app(database_url, host, **vapid_settings(tmp_path))
        listen(session, device.id, service.subscribe())
        tick(registry=app.registry)
        assert pushed(service) == [{"request": "…", "reason": "approval-needed", "url": "…"}]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests.common.push_service import LoopbackPushService, Subscription
from tpp_warehouse.models import DeviceRecord
from tpp_warehouse.vapid import generate

SUBJECT = "mailto:ops@registry.example"


def vapid_settings(directory: Path) -> dict[str, str]:
    """The ``tpp.vapid.*`` settings of a new key pair written into ``directory``."""
    private_key, _public = generate(directory)
    return {"tpp.vapid.private_key": str(private_key), "tpp.vapid.subject": SUBJECT}


def listen(session: Session, device_id: int, subscription: Subscription) -> None:
    """Store a loopback subscription on a device and commit.

    Written to the row directly: the endpoint (and so the service) accepts only https push
    services, and the loopback one is plain http on 127.0.0.1.
    """
    device = session.get(DeviceRecord, device_id)
    assert device is not None, f"no device {device_id}"
    device.push_subscription = subscription.info
    session.commit()


def pushed(service: LoopbackPushService, count: int | None = None) -> list[Any]:
    """The decrypted payloads the service accepted (waiting for ``count`` deliveries first, if given)."""
    deliveries = service.deliveries if count is None else service.wait_for(count)
    return [d.payload_json() for d in deliveries if d.status == 201]
