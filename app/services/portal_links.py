"""Signed, expiring portal links: the token names a PortalLink row so that links can be revoked and audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadData, BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.enums import EventSource, EventType, MailKind, NewLinkOutcome
from app.errors import LinkError, LinkExpired, LinkInvalid, LinkRevoked, LinkUsed, NotFound
from app.formatting import format_datetime
from app.models import Customer, EmailMessage, Merchant, PortalLink
from app.services.api_objects import PortalSessionObject
from app.services.emails import send_email
from app.services.events import SYSTEM, Actor, record_event
from app.services.portal_settings import get_portal_settings
from app.services.resource_views import link_status
from app.views import PortalLinkView

TOKEN_SALT = "customer-portal-link"  # noqa: S105 - a purpose label, not a secret
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
LAST_USED_PRECISION = timedelta(minutes=1)


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
    single_use: bool = False  # a sign-in link, used up by this opening: the page swaps it for a session link


class ClockSigner(TimestampSigner):
    """Reads the time from the injected clock, so tests and operators can move it."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def signed_serializer(settings: Settings, clock: Clock, *, salt: str = TOKEN_SALT) -> URLSafeTimedSerializer:
    """Signs with the current secret key, verifies with it or a fallback; `salt` names the token's purpose."""
    # itsdangerous signs with the last key and accepts every key in the list when verifying.
    keys = [*settings.secret_key_fallbacks, settings.secret_key]
    return URLSafeTimedSerializer(keys, salt=salt, signer=ClockSigner, signer_kwargs={"clock": clock})


def merchant_customer(session: Session, merchant_id: str, customer_id: str) -> Customer:
    """The merchant's (not deleted) customer; NotFound for anyone else's, without telling which."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merchant_id != merchant_id or customer.deleted_at is not None:
        raise NotFound("customer")
    return customer


def issue_link(
    *,
    session: Session,
    settings: Settings,
    merchant_id: str,
    customer_id: str,
    created_by: str,
    return_url: str = "",
    actor: Actor = SYSTEM,
    clock: Clock = system_clock,
    single_use: bool = False,
    lifetime: timedelta | None = None,
) -> IssuedLink:
    """Create a link for one of the merchant's customers (NotFound for anyone else's) and record the event.

    `lifetime` shortens the link's life below `PORTAL_LINK_TTL_SECONDS` (sign-in links: an hour); a `single_use`
    link works once (see `open_link`)."""
    merchant_customer(session, merchant_id, customer_id)
    now = clock()
    ttl = timedelta(seconds=settings.portal_link_ttl_seconds)
    link = PortalLink(
        merchant_id=merchant_id,
        customer_id=customer_id,
        created_by=created_by,
        return_url=return_url,
        created_at=now,
        expires_at=now + min(ttl, lifetime or ttl),
        single_use=single_use,
    )
    session.add(link)
    session.flush()
    _record(session, link, EventType.PORTAL_LINK_CREATED, actor, clock)
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
    """Verify a token and its row; record the use. Raises LinkExpired, LinkRevoked, LinkUsed or LinkInvalid.

    A single-use link is used up here, once (an UPDATE that only one of two simultaneous openings wins)."""
    if not is_canonical_token(token):
        raise LinkInvalid()
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
    # The link and whether its customer still exists, in one statement: every page load and action asks.
    row = (
        session.execute(
            select(PortalLink, Customer.id, Customer.deleted_at)
            .outerjoin(Customer, Customer.id == PortalLink.customer_id)
            .where(PortalLink.id == link_id)
        ).first()
        if isinstance(link_id, str)
        else None
    )
    if row is None:
        raise LinkInvalid()
    link, customer_id, customer_deleted_at = row
    now = clock()
    if link.revoked_at is not None or customer_id is None or customer_deleted_at is not None:
        raise LinkRevoked(merchant_id=link.merchant_id, customer_id=link.customer_id)
    if link.expires_at <= now:
        raise LinkExpired(merchant_id=link.merchant_id, customer_id=link.customer_id)
    first_use = link.last_used_at is None
    if link.single_use:
        taken = session.execute(
            update(PortalLink)
            .where(PortalLink.id == link.id, PortalLink.last_used_at.is_(None))
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise LinkUsed(merchant_id=link.merchant_id, customer_id=link.customer_id)
        session.refresh(link)
    # To the minute: a write on every page load and action would queue every portal reader behind the database's
    # write lock (and cost a commit each).
    if link.last_used_at is None or now - link.last_used_at >= LAST_USED_PRECISION:
        link.last_used_at = now
    if first_use:
        # The page knows the visitor's IP and browser but not yet which link this is: the event names it.
        opener = replace(actor or Actor(source=EventSource.PORTAL), portal_link_id=link.id)
        _record(session, link, EventType.PORTAL_LINK_OPENED, opener, clock)
    return PortalAccess(
        link_id=link.id,
        merchant_id=link.merchant_id,
        customer_id=link.customer_id,
        return_url=link.return_url,
        single_use=link.single_use,
    )


def continue_sign_in(
    *, session: Session, settings: Settings, access: PortalAccess, actor: Actor, clock: Clock = system_clock
) -> IssuedLink:
    """The ordinary portal link a just-used sign-in link continues on (reloads and open tabs keep working on it)."""
    return issue_link(
        session=session,
        settings=settings,
        merchant_id=access.merchant_id,
        customer_id=access.customer_id,
        created_by="sign-in",
        return_url=access.return_url,
        actor=actor,
        clock=clock,
    )


def _record(session: Session, link: PortalLink, event_type: EventType, actor: Actor, clock: Clock) -> None:
    """Record an event of the link as it is now (without its URL: the link is a credential)."""
    record_event(
        session=session,
        merchant_id=link.merchant_id,
        customer_id=link.customer_id,
        event_type=event_type,
        resource=PortalSessionObject.from_row(link, now=clock()),
        actor=actor,
        clock=clock,
    )


def get_portal_session(
    *, session: Session, merchant_id: str, link_id: str, url: str | None = None, clock: Clock = system_clock
) -> PortalSessionObject:
    """One of the merchant's links as the API returns it; `url` only right after `issue_link` made it."""
    link = session.get(PortalLink, link_id)
    if link is None or link.merchant_id != merchant_id:
        raise NotFound("portal link")
    return PortalSessionObject.from_row(link, now=clock(), url=url)


def is_canonical_token(token: str) -> bool:
    """Whether `token` is written exactly as it was issued: three parts of unpadded URL-safe base64.

    Decoding forgives padding (`=`) and the unused low bits of a last character, so `token=` or `token` with its last
    character swapped for a sibling verified too: one link, many spellings (and log or rate-limit keys). Only the
    spelling that re-encodes to itself is accepted.
    """
    parts = token.split(".")
    if len(parts) != 3 or not all(_BASE64URL.fullmatch(part) for part in parts):
        return False
    try:
        return all(base64_encode(base64_decode(part)).decode() == part for part in parts)
    except BadData:
        return False


def _link_row(session: Session, payload: object, serializer: URLSafeTimedSerializer) -> PortalLink | None:
    """The row named by an expired token's already-verified payload, to brand the 'expired' page."""
    try:
        link_id = serializer.load_payload(payload) if isinstance(payload, bytes) else payload
    except BadSignature:
        return None
    return session.get(PortalLink, link_id) if isinstance(link_id, str) else None


# --- Managing a customer's links (merchant dashboard) ---------------------------------------------------------

RECENT_LINKS = 20


def _link_view(link: PortalLink, now: datetime) -> PortalLinkView:
    return PortalLinkView(
        id=link.id,
        created_at=link.created_at,
        expires_at=link.expires_at,
        status=link_status(link, now),
        last_used_at=link.last_used_at,
        revoked_at=link.revoked_at,
        created_by=link.created_by,
    )


def list_links(
    *, session: Session, merchant_id: str, customer_id: str, clock: Clock = system_clock, limit: int = RECENT_LINKS
) -> tuple[PortalLinkView, ...]:
    """The customer's most recent links, newest first, each active, expired or revoked."""
    customer = merchant_customer(session, merchant_id, customer_id)
    links = session.scalars(
        select(PortalLink)
        .where(PortalLink.customer_id == customer.id)
        .order_by(PortalLink.created_at.desc())
        .limit(limit)
    )
    now = clock()
    return tuple(_link_view(link, now) for link in links)


def revoke_link(
    *, session: Session, merchant_id: str, link_id: str, actor: Actor = SYSTEM, clock: Clock = system_clock
) -> PortalLinkView:
    """Stop one link from working (NotFound for another merchant's); revoking twice changes nothing."""
    link = session.get(PortalLink, link_id)
    if link is None or link.merchant_id != merchant_id:
        raise NotFound("portal link")
    now = clock()
    if link.revoked_at is None:
        link.revoked_at = now
        _record(session, link, EventType.PORTAL_LINK_REVOKED, actor, clock)
    return _link_view(link, now)


def revoke_all_links(
    *, session: Session, merchant_id: str, customer_id: str, actor: Actor = SYSTEM, clock: Clock = system_clock
) -> int:
    """Revoke every link of the customer that still works (an event each); returns how many were revoked."""
    customer = merchant_customer(session, merchant_id, customer_id)
    now = clock()
    links = list(
        session.scalars(
            select(PortalLink).where(
                PortalLink.customer_id == customer.id, PortalLink.revoked_at.is_(None), PortalLink.expires_at > now
            )
        )
    )
    for link in links:
        link.revoked_at = now
        _record(session, link, EventType.PORTAL_LINK_REVOKED, actor, clock)
    return len(links)


# --- "Email me a new link" from an expired or revoked link -----------------------------------------------------

NEW_LINK_EMAIL_INTERVAL = timedelta(minutes=10)


def request_new_link(
    *, session: Session, settings: Settings, error: LinkError, actor: Actor, clock: Clock = system_clock
) -> NewLinkOutcome:
    """Email a fresh link to the address on file for the customer an expired or revoked link was issued to.

    The caller never learns the address. The mail is queued (see app/services/emails.py) and sent within seconds.
    """
    if error.merchant_id is None or error.customer_id is None or isinstance(error, LinkInvalid):
        return NewLinkOutcome.NO_EMAIL
    customer = session.scalar(
        select(Customer)
        .where(
            Customer.id == error.customer_id,
            Customer.merchant_id == error.merchant_id,
            Customer.deleted_at.is_(None),
        )
        .with_for_update()  # two clicks at once must not both pass the rate limit (PostgreSQL; SQLite serialises)
    )
    if customer is None or not customer.email:
        return NewLinkOutcome.NO_EMAIL
    now = clock()
    recent = session.scalar(
        select(EmailMessage.id)
        .where(
            EmailMessage.customer_id == customer.id,
            EmailMessage.created_at > now - NEW_LINK_EMAIL_INTERVAL,
            EmailMessage.kind.not_in([kind.value for kind in MailKind]),  # a receipt does not count
        )
        .limit(1)
    )
    if recent is not None:
        return NewLinkOutcome.RECENTLY_SENT
    merchant = session.get_one(Merchant, customer.merchant_id)
    link = issue_link(
        session=session,
        settings=settings,
        merchant_id=merchant.id,
        customer_id=customer.id,
        created_by="email request",
        actor=actor,
        clock=clock,
    )
    contact = get_portal_settings(session=session, merchant_id=merchant.id).support_email or merchant.support_email
    send_email(
        session=session,
        settings=settings,
        merchant_id=merchant.id,
        customer_id=customer.id,
        to_address=customer.email,
        subject=f"Your new link to manage your {merchant.public_business_name} account",
        body=_new_link_body(customer.name, merchant, link, contact),
        sender_name=merchant.public_business_name,
        reply_to=contact,
        clock=clock,
    )
    _record(session, session.get_one(PortalLink, link.id), EventType.PORTAL_LINK_EMAILED, actor, clock)
    return NewLinkOutcome.SENT


def _new_link_body(name: str, merchant: Merchant, link: IssuedLink, contact: str) -> str:
    greeting = f"Hello {name}," if name else "Hello,"
    valid_until = format_datetime(link.expires_at, time_zone=merchant.time_zone)
    lines = [
        greeting,
        "",
        f"Here is your new link to manage your subscription with {merchant.public_business_name}:",
        "",
        link.url,
        "",
        f"The link is valid until {valid_until}. Keep it private: anyone with the link can see your account.",
        "If you did not ask for it, you can ignore this email.",
        "",
        merchant.public_business_name,
    ]
    if contact:
        lines.append(contact)
    return "\n".join(lines) + "\n"
