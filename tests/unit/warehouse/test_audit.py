"""The audit chain in the database: appended in the caller's transaction, and tamper-evident."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from zope.interface.verify import verifyClass

from tests.common.scenario import T0
from tpp_core import AuditChainBroken, IAuditLog, PersonId, RecordAudit
from tpp_warehouse.audit import DatabaseAuditLog
from tpp_warehouse.models import AuditRecord


def action(n: int, kind: str = "tpp:request:approval") -> RecordAudit:
    return RecordAudit(
        at=T0 + timedelta(minutes=n),
        kind=kind,
        actor=PersonId(f"person{n}"),
        subject="request:r1",
        data={"n": n, "seats": {"lead": ("ann",)}},
    )


def test_implements_the_port() -> None:
    assert verifyClass(IAuditLog, DatabaseAuditLog)


def test_entries_chain_and_verify(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        log = DatabaseAuditLog(session)
        first = log.record(action(1, "tpp:request:opened"))
        second = log.record(action(2))
    assert (first.seq, second.seq, second.prev) == (1, 2, first.hash)
    with Session(engine) as session:
        log = DatabaseAuditLog(session)
        assert log.verify() == 2
        stored = list(log.entries("request:r1"))
        assert stored[1].data == {"n": 2, "seats": {"lead": ["ann"]}}  # JSON keeps lists
        assert stored[1].at == T0 + timedelta(minutes=2)
        assert list(log.entries("request:other")) == []


def test_an_entry_rolls_back_with_its_transaction(engine: Engine) -> None:
    def failing_change(session: Session) -> None:
        with session.begin():
            DatabaseAuditLog(session).record(action(1))
            raise RuntimeError("the state change failed")

    with Session(engine) as session:
        with pytest.raises(RuntimeError, match="the state change failed"):
            failing_change(session)
        assert DatabaseAuditLog(session).verify() == 0


@pytest.mark.parametrize(
    "edit",
    [
        {"actor": "mallory"},
        {"kind": "tpp:request:rejected"},
        {"data": {"n": 99}},
        {"at": T0 - timedelta(days=1)},
    ],
    ids=lambda e: next(iter(e)),
)
def test_an_edited_row_breaks_the_chain(engine: Engine, edit: dict[str, object]) -> None:
    with Session(engine) as session, session.begin():
        log = DatabaseAuditLog(session)
        for n in range(1, 4):
            log.record(action(n))
    with Session(engine) as session, session.begin():
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(**edit))
    with Session(engine) as session, pytest.raises(AuditChainBroken, match="audit entry 2 was altered"):
        DatabaseAuditLog(session).verify()


def test_a_deleted_row_breaks_the_chain(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        log = DatabaseAuditLog(session)
        for n in range(1, 4):
            log.record(action(n))
    with Session(engine) as session, session.begin():
        session.delete(session.get(AuditRecord, 2))
    with Session(engine) as session, pytest.raises(AuditChainBroken, match="entry 3 stands where entry 2 should"):
        DatabaseAuditLog(session).verify()


@pytest.mark.service
def test_concurrent_appends_queue_up_on_postgresql(postgresql_engine: Engine) -> None:
    engine = postgresql_engine
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def append(n: int) -> None:
        try:
            start.wait()
            for k in range(5):
                with Session(engine) as session, session.begin():
                    DatabaseAuditLog(session).record(action(10 * n + k))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert DatabaseAuditLog(session).verify() == 20
