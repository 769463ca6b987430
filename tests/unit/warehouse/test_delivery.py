"""Claiming the outbox: each row once, to every listening device of its person, in a few statements."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.common.scenario import T0
from tpp_warehouse import delivery
from tpp_warehouse.delivery import claim
from tpp_warehouse.models import DeviceRecord, NotificationRecord

SUBSCRIPTION = {"endpoint": "https://push.example/x", "keys": {"p256dh": "k", "auth": "a"}}


def device(session: Session, person: str, name: str, *, listening: bool = True) -> int:
    row = DeviceRecord(
        person=person,
        name=name,
        credential_id=f"{person}-{name}".encode(),
        public_key=b"key",
        sign_count=0,
        enrolled_at=T0,
        enrolment="announced",
        push_subscription=SUBSCRIPTION if listening else None,
    )
    session.add(row)
    session.flush()
    return row.id


def notify(session: Session, person: str, subject: str, reason: str = "approval-needed") -> int:
    row = NotificationRecord(person=person, subject=subject, reason=reason, created_at=T0)
    session.add(row)
    session.flush()
    return row.id


def test_each_row_goes_to_every_listening_device_of_its_person_once(engine: Engine) -> None:
    with Session(engine) as session:
        ann_phone, ann_key = device(session, "ann", "phone"), device(session, "ann", "key")
        device(session, "ann", "laptop", listening=False)
        bob_phone = device(session, "bob", "phone")
        to_ann = notify(session, "ann", "request:r1")
        to_bob = notify(session, "bob", "request:r1")
        notify(session, "cid", "request:r1")  # no device: claimed, sent nowhere
        enrolled = notify(session, "ann", f"device:{ann_key}", "device-enrolled")
        session.commit()

        pairs, more = claim(session, T0)
        assert sorted(pairs) == sorted(
            [(to_ann, ann_phone), (to_ann, ann_key), (to_bob, bob_phone), (enrolled, ann_phone)]
        )  # the enrolled device is not told about itself
        assert not more
        session.commit()
        delivered = session.scalars(select(NotificationRecord.delivered_at).order_by(NotificationRecord.id)).all()
        assert delivered == [T0] * 4
        assert claim(session, T0) == ([], False)  # nothing is sent twice


def test_a_full_batch_says_there_may_be_more(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(engine) as session:
        phone = device(session, "ann", "phone")
        rows = [notify(session, "ann", f"request:r{i}") for i in range(3)]
        session.commit()
        monkeypatch.setattr(delivery, "_BATCH", 2)
        first, more = claim(session, T0)
        second, more_after = claim(session, T0)
        assert (first, more) == ([(rows[0], phone), (rows[1], phone)], True)
        assert (second, more_after) == ([(rows[2], phone)], False)


def test_two_dispatchers_at_once_claim_each_row_once_on_postgresql(postgresql_engine: Engine) -> None:
    with Session(postgresql_engine) as session:
        phone = device(session, "ann", "phone")
        rows = [notify(session, "ann", f"request:r{i}") for i in range(5)]
        session.commit()
    claimed: dict[str, list[tuple[int, int]]] = {}
    first = Session(postgresql_engine)
    claimed["first"], _ = claim(first, T0)  # its UPDATE holds the rows' locks until it commits

    def second_dispatcher() -> None:
        with Session(postgresql_engine) as second:
            claimed["second"], _ = claim(second, datetime.now().astimezone())
            second.commit()

    racer = threading.Thread(target=second_dispatcher)
    racer.start()
    racer.join(timeout=0.5)
    assert racer.is_alive(), "the second dispatcher must wait for the first one's row locks"
    first.commit()
    first.close()
    racer.join(timeout=30)
    assert claimed == {"first": [(row, phone) for row in rows], "second": []}
