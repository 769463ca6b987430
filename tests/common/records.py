"""Factories for TPP's database rows, for tests that need one without going through the services."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.common.scenario import LIFETIME, T0, brief_policy
from tpp_warehouse.models import PolicyRecord, RequestRecord


def add_policy(session: Session) -> PolicyRecord:
    """The brief's example policy for project "acme", version 1 (reused if present)."""
    policy = brief_policy()
    record = session.scalars(select(PolicyRecord).where(PolicyRecord.scope_value == policy.scope.value)).first()
    if record is None:
        record = PolicyRecord(
            scope_kind=policy.scope.kind.value,
            scope_value=policy.scope.value,
            version=policy.version,
            document=policy.to_dict(),
            created_at=T0,
            created_by="lead",
            approved_by_request=None,
        )
        session.add(record)
        session.flush()
    return record


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
