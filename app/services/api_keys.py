"""Secret API keys for a merchant's integrations: shown once, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.errors import NotFound, ValidationFailed
from app.models import ApiKey, MerchantUser
from app.validation import check_length
from app.views import ApiKeyView, CreatedApiKey

KEY_PREFIX = "sk_"
DISPLAY_PREFIX_LENGTH = 11  # "sk_" and 8 random characters: enough to recognise a key, useless to guess it
MAX_ACTIVE_KEYS = 20
MAX_NAME_LENGTH = 60
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    # The secret has 256 random bits, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def _view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=key.id,
        prefix=key.prefix,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        name=key.name,
    )


def create_api_key(*, session: Session, merchant_id: str, name: str = "", clock: Clock = system_clock) -> CreatedApiKey:
    """A new key (`name` says what it is for, optional); at most MAX_ACTIVE_KEYS unrevoked keys per merchant."""
    if message := check_length(name.strip(), MAX_NAME_LENGTH):
        raise ValidationFailed({"name": message})
    active = session.scalar(select(func.count()).where(ApiKey.merchant_id == merchant_id, ApiKey.revoked_at.is_(None)))
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise ValidationFailed({"key": f"You can have at most {MAX_ACTIVE_KEYS} keys; revoke one you no longer use."})
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        merchant_id=merchant_id,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        name=name.strip(),
        key_hash=_hash(secret),
        created_at=clock(),
    )
    session.add(key)
    session.flush()
    return CreatedApiKey(key=_view(key), secret=secret)


def create_api_key_for_login(
    *, session: Session, email: str, name: str = "", clock: Clock = system_clock
) -> tuple[str, CreatedApiKey]:
    """A new key of the merchant whose login `email` is (for operators' scripts): (merchant id, key); NotFound for
    an email that is no login."""
    merchant_id = session.scalar(select(MerchantUser.merchant_id).where(MerchantUser.email == email.strip().lower()))
    if merchant_id is None:
        raise NotFound("merchant login")
    return merchant_id, create_api_key(session=session, merchant_id=merchant_id, name=name, clock=clock)


def list_api_keys(*, session: Session, merchant_id: str) -> tuple[ApiKeyView, ...]:
    """The merchant's keys, newest first, revoked ones included (marked by `revoked_at`)."""
    keys = session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == merchant_id).order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return tuple(_view(key) for key in keys)


def revoke_api_key(*, session: Session, merchant_id: str, key_id: str, clock: Clock = system_clock) -> ApiKeyView:
    """Stop a key from working at once; NotFound for another merchant's key; revoking twice changes nothing."""
    key = session.get(ApiKey, key_id)
    if key is None or key.merchant_id != merchant_id:
        raise NotFound("API key")
    if key.revoked_at is None:
        key.revoked_at = clock()
    return _view(key)


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who is calling the API: the merchant, and which of its keys (for the audit trail)."""

    merchant_id: str
    key_id: str


def authenticate_api_key(*, session: Session, secret: str, clock: Clock = system_clock) -> ApiCaller | None:
    """The caller for a valid, unrevoked key (and note its use); None for anything else."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = session.execute(_KEY_BY_HASH, {"key_hash": _hash(secret)}).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    now = clock()
    # To the minute: a write on every request would serialise all API reads behind the database's write lock.
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return ApiCaller(merchant_id=key.merchant_id, key_id=key.id)


# Every API request runs it: built once, and read as a row, not an ORM object.
_KEY_BY_HASH = select(ApiKey.id, ApiKey.merchant_id, ApiKey.revoked_at, ApiKey.last_used_at).where(
    ApiKey.key_hash == bindparam("key_hash")
)
