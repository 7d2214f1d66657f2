"""Idempotent API requests: a `POST` repeated with the same `Idempotency-Key` gets the first answer again.

Keys are the merchant's own and kept for 24 hours. The first request claims its key before it is answered, so a
second one arriving meanwhile is told to wait (Conflict) instead of acting twice; an answer is kept only when the
request succeeded, so after a refusal the same key can be sent again with corrected input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same: method, path and the body's JSON (key order and spacing do not count)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def claim_key(
    *, session: Session, merchant_id: str, key: str, request_fingerprint: str, now: datetime
) -> StoredAnswer | None:
    """None: the key is new (or expired) and now this request's: answer it, then `store_answer` or `release_key`.
    A StoredAnswer: the key's first request was answered with it. Conflict: the key was used for another request,
    or its first request is still being answered."""
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.key == key)
    )
    if row is not None and row.created_at <= now - KEY_LIFETIME:
        session.delete(row)
        session.flush()
        row = None
    if row is None:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.created_at <= now - KEY_LIFETIME
            )
        )
        try:
            with session.begin_nested():
                session.add(
                    IdempotencyKey(merchant_id=merchant_id, key=key, fingerprint=request_fingerprint, created_at=now)
                )
        except IntegrityError:  # another request claimed it this instant
            raise Conflict(_IN_PROGRESS) from None
        return None
    if row.fingerprint != request_fingerprint:
        raise Conflict(
            "This Idempotency-Key was used for a different request in the last 24 hours; use a new key for new input."
        )
    if row.status_code is None:
        raise Conflict(_IN_PROGRESS)
    return StoredAnswer(status_code=row.status_code, body=row.response_body)


_IN_PROGRESS = "A request with this Idempotency-Key is still being answered; try again in a moment."


def store_answer(*, session: Session, merchant_id: str, key: str, status_code: int, body: str) -> None:
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.merchant_id == merchant_id, IdempotencyKey.key == key)
    ).one()
    row.status_code, row.response_body = status_code, body


def release_key(*, session: Session, merchant_id: str, key: str) -> None:
    """Forget a claim whose request failed, so that the key can be sent again."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.merchant_id == merchant_id,
            IdempotencyKey.key == key,
            IdempotencyKey.status_code.is_(None),
        )
    )
