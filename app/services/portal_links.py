"""Signed, expiring portal links: the token names a PortalLink row so that links can be revoked and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.errors import LinkExpired, LinkInvalid, LinkRevoked, NotFound
from app.models import Customer, EventSource, PortalLink
from app.services.events import Actor, record_event

TOKEN_SALT = "customer-portal-link"  # noqa: S105 - a purpose label, not a secret


@dataclass(frozen=True, slots=True)
class IssuedLink:
    id: str
    url: str
    customer_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PortalAccess:
    """A verified link: every portal query is scoped by this customer and merchant."""

    link_id: str
    merchant_id: str
    customer_id: str
    return_url: str


def signed_serializer(settings: Settings, clock: Clock, *, salt: str = TOKEN_SALT) -> URLSafeTimedSerializer:
    """Signs with the current secret key, verifies with it or a fallback; `salt` names the token's purpose."""

    class ClockSigner(TimestampSigner):
        """Reads the time from the injected clock, so tests and operators can move it."""

        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    # itsdangerous signs with the last key and accepts every key in the list when verifying.
    keys = [*settings.secret_key_fallbacks, settings.secret_key]
    return URLSafeTimedSerializer(keys, salt=salt, signer=ClockSigner)


def issue_link(
    *,
    session: Session,
    settings: Settings,
    merchant_id: str,
    customer_id: str,
    created_by: str,
    return_url: str = "",
    clock: Clock = system_clock,
) -> IssuedLink:
    """Create a link for one of the merchant's customers (NotFound for anyone else's)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merchant_id != merchant_id or customer.deleted_at is not None:
        raise NotFound("customer")
    now = clock()
    link = PortalLink(
        merchant_id=merchant_id,
        customer_id=customer_id,
        created_by=created_by,
        return_url=return_url,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.portal_link_ttl_seconds),
    )
    session.add(link)
    session.flush()
    token = signed_serializer(settings, clock).dumps(link.id)
    return IssuedLink(
        id=link.id,
        url=f"{settings.effective_public_url}/portal/{token}",
        customer_id=customer_id,
        expires_at=link.expires_at,
    )


def open_link(
    *, session: Session, settings: Settings, token: str, actor: Actor | None = None, clock: Clock = system_clock
) -> PortalAccess:
    """Verify a token and its row; record the use. Raises LinkExpired, LinkRevoked or LinkInvalid."""
    serializer = signed_serializer(settings, clock)
    try:
        link_id = serializer.loads(token, max_age=settings.portal_link_ttl_seconds)
    except SignatureExpired as expired:  # a subclass of BadSignature: must come first
        link = _link_row(session, expired.payload, serializer)
        raise LinkExpired(
            merchant_id=link.merchant_id if link else None, customer_id=link.customer_id if link else None
        ) from None
    except BadSignature:
        raise LinkInvalid() from None
    link = session.get(PortalLink, link_id) if isinstance(link_id, str) else None
    if link is None:
        raise LinkInvalid()
    now = clock()
    customer = session.get(Customer, link.customer_id)
    if link.revoked_at is not None or customer is None or customer.deleted_at is not None:
        raise LinkRevoked(merchant_id=link.merchant_id, customer_id=link.customer_id)
    if link.expires_at <= now:
        raise LinkExpired(merchant_id=link.merchant_id, customer_id=link.customer_id)
    first_use = link.last_used_at is None
    link.last_used_at = now
    if first_use:
        record_event(
            session=session,
            merchant_id=link.merchant_id,
            customer_id=link.customer_id,
            event_type="portal.link.opened",
            object_id=link.id,
            actor=actor or Actor(source=EventSource.PORTAL, portal_link_id=link.id),
            clock=clock,
        )
    return PortalAccess(
        link_id=link.id, merchant_id=link.merchant_id, customer_id=link.customer_id, return_url=link.return_url
    )


def _link_row(session: Session, payload: object, serializer: URLSafeTimedSerializer) -> PortalLink | None:
    """The row named by an expired token's already-verified payload, to brand the 'expired' page."""
    try:
        link_id = serializer.load_payload(payload) if isinstance(payload, bytes) else payload
    except BadSignature:
        return None
    return session.get(PortalLink, link_id) if isinstance(link_id, str) else None
