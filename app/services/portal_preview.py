"""The settings page's preview: who to preview as, that customer's data, and signed tokens carrying a draft."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.errors import LinkExpired, LinkInvalid, NotFound
from app.models import Customer, Merchant
from app.services.portal import load_portal_data, merchant_prices, sample_portal_data
from app.services.portal_links import PortalAccess, signed_serializer
from app.views import CustomerPortalData, PortalSettingsView

PREVIEW_TOKEN_SALT = "portal-settings-preview"  # noqa: S105 - a purpose label, not a secret
PREVIEW_TOKEN_TTL_SECONDS = 15 * 60
PREVIEW_CUSTOMER_LIMIT = 50
_SETTINGS_FIELDS = frozenset(field.name for field in fields(PortalSettingsView))


@dataclass(frozen=True, slots=True)
class PreviewRequest:
    """What a preview token carries: the unsaved draft and whom to show it to (None: the sample customer)."""

    draft: PortalSettingsView
    customer_id: str | None


def preview_customers(*, session: Session, merchant_id: str, limit: int = PREVIEW_CUSTOMER_LIMIT) -> dict[str, str]:
    """The merchant's newest customers as id -> "Name (email)", for the "Preview as" choice."""
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.email)
        .where(Customer.merchant_id == merchant_id, Customer.deleted_at.is_(None))
        .order_by(Customer.created_at.desc(), Customer.id)
        .limit(limit)
    )
    return {row.id: f"{row.name or row.email} ({row.email})" if row.name else row.email for row in rows}


def preview_data(*, session: Session, merchant_id: str, customer_id: str | None, now: datetime) -> CustomerPortalData:
    """The sample customer with the merchant's own prices, or one of the merchant's real customers (else NotFound)."""
    if customer_id is None:
        merchant = session.get(Merchant, merchant_id)
        if merchant is None:
            raise NotFound("merchant")
        prices = merchant_prices(session=session, merchant_id=merchant_id)
        return sample_portal_data(now=now, currency=merchant.default_currency, prices=prices)
    # Read-only and scoped like a portal link of that customer; no link row is created for a preview.
    access = PortalAccess(link_id="", merchant_id=merchant_id, customer_id=customer_id, return_url="")
    return load_portal_data(session=session, access=access)


def issue_preview_token(
    *, settings: Settings, draft: PortalSettingsView, customer_id: str | None, clock: Clock = system_clock
) -> str:
    """A short-lived signed token with the draft itself, so that previewing never saves anything."""
    payload = {"draft": asdict(draft), "customer_id": customer_id}
    return str(signed_serializer(settings, clock, salt=PREVIEW_TOKEN_SALT).dumps(payload))


def open_preview_token(
    *, settings: Settings, token: str, merchant_id: str, clock: Clock = system_clock
) -> PreviewRequest:
    """The draft of a token issued to this merchant; LinkExpired after 15 minutes, LinkInvalid when tampered with."""
    serializer = signed_serializer(settings, clock, salt=PREVIEW_TOKEN_SALT)
    try:
        payload = serializer.loads(token, max_age=PREVIEW_TOKEN_TTL_SECONDS)
    except SignatureExpired:  # a subclass of BadSignature: must come first
        raise LinkExpired(merchant_id=merchant_id) from None
    except BadSignature:
        raise LinkInvalid() from None
    draft_values = payload.get("draft") if isinstance(payload, dict) else None
    if not isinstance(draft_values, dict) or set(draft_values) != _SETTINGS_FIELDS:
        raise LinkInvalid()  # signed by us, but by an older version with other fields
    draft = PortalSettingsView(
        **{
            **draft_values,
            "billing_fields": tuple(draft_values["billing_fields"]),
            "switchable_price_ids": tuple(draft_values["switchable_price_ids"]),
        }
    )
    if draft.merchant_id != merchant_id:
        raise NotFound("preview")
    customer_id = payload.get("customer_id")
    return PreviewRequest(draft=draft, customer_id=customer_id if isinstance(customer_id, str) else None)
