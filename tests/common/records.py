"""Factories for TPP's database rows, for tests that need one without going through the services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.common.scenario import LIFETIME, T0, brief_policy
from tpp_core import PersonId
from tpp_warehouse.models import PolicyRecord, RequestRecord
from tpp_warehouse.policies import PolicyStore


def add_policy(session: Session) -> PolicyRecord:
    """The brief's example policy for project "acme", version 1 (reused if present)."""
    store = PolicyStore(session)
    policy = brief_policy()
    return store.record(policy.scope) or store.add(policy, by=PersonId("lead"), at=T0, request_id=None)


def add_request(session: Session, request_id: str) -> RequestRecord:
    """A verifying release request of acme 1.0 with no files, under the example policy."""
    record = RequestRecord(
        id=request_id,
        kind="release",
        registry_name="https://registry.example",
        project="acme",
        version="1.0",
        proposed=None,
        uploader="ci",
        policy=add_policy(session),
        state="verifying",
        opened_at=T0,
        expires_at=T0 + LIFETIME,
    )
    session.add(record)
    session.flush()
    return record
