"""Challenges are server-generated, single-use, expiring and bound to one purpose, person and request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.common.scenario import T0
from tpp_core import InvalidInput, PersonId, RequestId
from tpp_warehouse.challenges import ChallengeStore
from tpp_warehouse.models import ChallengeRecord

ANN = PersonId("ann")
LIFETIME = timedelta(minutes=5)


@pytest.fixture
def session(engine: Engine) -> Session:
    with Session(engine) as session:
        yield session  # type: ignore[misc]


def test_issue_then_consume_once(session: Session) -> None:
    store = ChallengeStore(session, lifetime=LIFETIME)
    ceremony, nonce = store.issue(purpose="register", person=ANN, request_id=None, at=T0)
    assert len(nonce) == 32
    assert store.consume(ceremony, purpose="register", person=ANN, request_id=None, at=T0) == nonce
    with pytest.raises(InvalidInput, match="unknown or was already used"):
        store.consume(ceremony, purpose="register", person=ANN, request_id=None, at=T0)


def test_nonces_are_fresh(session: Session) -> None:
    store = ChallengeStore(session, lifetime=LIFETIME)
    issued = [store.issue(purpose="register", person=ANN, request_id=None, at=T0) for _ in range(20)]
    assert len({i for i, _ in issued}) == len({n for _, n in issued}) == 20


@pytest.mark.parametrize(
    ("purpose", "person", "request_id"),
    [("reject", "ann", None), ("register", "bob", None)],
    ids=["other purpose", "other person"],
)
def test_a_challenge_is_bound_to_its_use(session: Session, purpose: str, person: str, request_id: str | None) -> None:
    store = ChallengeStore(session, lifetime=LIFETIME)
    ceremony, _ = store.issue(purpose="register", person=ANN, request_id=None, at=T0)
    with pytest.raises(InvalidInput, match="started for something else"):
        store.consume(ceremony, purpose=purpose, person=PersonId(person), request_id=request_id, at=T0)
    # A misuse burns it: it cannot be retried for its real purpose either.
    with pytest.raises(InvalidInput, match="already used"):
        store.consume(ceremony, purpose="register", person=ANN, request_id=None, at=T0)


def test_a_challenge_for_one_request_is_refused_for_another(session: Session) -> None:
    from tests.common.records import add_request

    add_request(session, "r1")
    add_request(session, "r2")
    store = ChallengeStore(session, lifetime=LIFETIME)
    ceremony, _ = store.issue(purpose="approve", person=ANN, request_id=RequestId("r1"), at=T0)
    with pytest.raises(InvalidInput, match="started for something else"):
        store.consume(ceremony, purpose="approve", person=ANN, request_id=RequestId("r2"), at=T0)


def test_expiry(session: Session) -> None:
    store = ChallengeStore(session, lifetime=LIFETIME)
    ceremony, _ = store.issue(purpose="register", person=ANN, request_id=None, at=T0)
    with pytest.raises(InvalidInput, match="expired"):
        store.consume(ceremony, purpose="register", person=ANN, request_id=None, at=T0 + LIFETIME)


def test_expired_challenges_are_swept(session: Session) -> None:
    store = ChallengeStore(session, lifetime=LIFETIME)
    for _ in range(3):
        store.issue(purpose="register", person=ANN, request_id=None, at=T0)
    store.issue(purpose="register", person=ANN, request_id=None, at=T0 + LIFETIME)
    assert session.scalar(select(func.count()).select_from(ChallengeRecord)) == 1


@pytest.mark.parametrize("ceremony", [None, 7, "", "x" * 500, ["id"]])
def test_garbage_ids_are_refused(session: Session, ceremony: object) -> None:
    store = ChallengeStore(session, lifetime=LIFETIME)
    with pytest.raises(InvalidInput, match="unknown"):
        store.consume(ceremony, purpose="register", person=ANN, request_id=None, at=T0)


def test_unknown_purpose_is_a_programming_error(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown challenge purpose 'login'"):
        ChallengeStore(session, lifetime=LIFETIME).issue(purpose="login", person=ANN, request_id=None, at=T0)
