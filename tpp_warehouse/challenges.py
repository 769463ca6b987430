"""Server-side WebAuthn challenges: generated here, single-use, expiring, bound to their purpose.

Usage::

    store = ChallengeStore(session, lifetime=timedelta(minutes=5))
    ceremony_id, nonce = store.issue(purpose="approve", person="ann", request_id="r1", at=now)
    ...                                   # the browser signs nonce || sha256(manifest)
    nonce = store.consume(ceremony_id, purpose="approve", person="ann", request_id="r1", at=now)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import delete
from sqlalchemy.orm import Session
from zope.interface import implementer

from tpp_core import NONCE_SIZE, InvalidInput, PersonId, RequestId

from .interfaces import IChallengeStore
from .models import ChallengeRecord

__all__ = ["PURPOSES", "Ceremony", "ChallengeStore"]

#: What a challenge may be used for; one issued for one purpose is refused for any other.
PURPOSES = frozenset({"approve", "confirm", "reject", "register", "vouch"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Ceremony:
    """What a page needs to run one WebAuthn ceremony: the id to send back, and the options JSON
    for ``navigator.credentials.create()`` or ``.get()``."""

    id: str
    options: str


@implementer(IChallengeStore)
class ChallengeStore:
    """Challenges in ``tpp_challenges``, read and written through ``session``."""

    def __init__(self, session: Session, *, lifetime: timedelta) -> None:
        self._session = session
        self._lifetime = lifetime

    @classmethod
    def create_service(cls, context: object, request: Any) -> Self:
        """The pyramid_services factory: TPP's session, and ``tpp.challenge_lifetime``."""
        return cls(request.tpp_db, lifetime=request.registry["tpp.settings"].challenge_lifetime)

    def issue(self, *, purpose: str, person: PersonId, request_id: RequestId | None, at: datetime) -> tuple[str, bytes]:
        """Store a fresh nonce for one ceremony; returns its id and the nonce."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown challenge purpose {purpose!r}")
        # Expired challenges of anyone are swept here, so the table stays small without a job.
        self._session.execute(delete(ChallengeRecord).where(ChallengeRecord.expires_at <= at))
        ceremony_id, nonce = secrets.token_urlsafe(24), secrets.token_bytes(NONCE_SIZE)
        self._session.add(
            ChallengeRecord(
                id=ceremony_id,
                nonce=nonce,
                purpose=purpose,
                person=person,
                request_id=request_id,
                expires_at=at + self._lifetime,
            )
        )
        self._session.flush()
        return ceremony_id, nonce

    def consume(
        self, ceremony_id: object, *, purpose: str, person: PersonId, request_id: RequestId | None, at: datetime
    ) -> bytes:
        """Delete the challenge and return its nonce, if it was issued for exactly this use.

        Single use means one *successful* use: the deletion commits with the change the answer
        enabled, so a replay after success finds nothing. If the caller's transaction is refused and
        rolls back, the deletion rolls back with it and a retry of the same answer meets exactly the
        same checks again; it can still succeed at most once, and only before the challenge expires.

        :raises InvalidInput: if it does not exist, expired, or was issued for another purpose,
            person or request.
        """
        record = self._session.get(ChallengeRecord, ceremony_id) if isinstance(ceremony_id, str) else None
        if record is None:
            raise InvalidInput("this confirmation is unknown or was already used; please start again")
        self._session.delete(record)
        self._session.flush()
        if (record.purpose, record.person, record.request_id) != (purpose, person, request_id):
            raise InvalidInput("this confirmation was started for something else; please start again")
        if record.expires_at <= at:
            raise InvalidInput("this confirmation expired; please start again")
        return record.nonce
