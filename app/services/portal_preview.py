"""The settings page's preview: the previewed customer's data, the draft as a portal view, and signed preview tokens."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.clock import Clock, system_clock
from app.config import Settings
from app.enums import InvoiceStatus
from app.errors import LinkExpired, LinkInvalid, NotFound
from app.i18n import negotiate_locale
from app.models import Invoice, Merchant
from app.services.portal import (
    compose_portal_view,
    load_portal_data,
    merchant_prices,
    sample_invoices,
    sample_portal_data,
)
from app.services.portal_links import PortalAccess, signed_serializer
from app.services.resource_views import invoice_view
from app.views import AccountDetails, CustomerPortalData, InvoiceView, PortalSettingsView, PortalView

PREVIEW_TOKEN_SALT = "portal-settings-preview"  # noqa: S105 - a purpose label, not a secret
PREVIEW_TOKEN_TTL_SECONDS = 15 * 60
PREVIEW_INVOICE_LIMIT = 100
_SETTINGS_FIELDS = frozenset(field.name for field in fields(PortalSettingsView))


@dataclass(frozen=True, slots=True)
class PreviewRequest:
    """What a preview token carries: the unsaved draft and whom to show it to (None: the sample customer)."""

    draft: PortalSettingsView
    customer_id: str | None


@dataclass(frozen=True, slots=True)
class PreviewCustomer:
    """Whom the preview shows: their portal data, and the invoices the preview can page through and open."""

    data: CustomerPortalData
    invoices: tuple[InvoiceView, ...]


def load_preview_customer(
    *, session: Session, merchant_id: str, customer_id: str | None, now: datetime
) -> PreviewCustomer:
    """The sample customer with the merchant's own prices, or one of the merchant's real customers (else NotFound)."""
    if customer_id is None:
        merchant = session.get(Merchant, merchant_id)
        if merchant is None:
            raise NotFound("merchant")
        prices = merchant_prices(session=session, merchant_id=merchant_id)
        currency = merchant.default_currency
        return PreviewCustomer(
            data=sample_portal_data(now=now, currency=currency, prices=prices),
            invoices=sample_invoices(now=now, currency=currency),
        )
    # Read-only and scoped like a portal link of that customer; no link row is created for a preview.
    access = PortalAccess(link_id="", merchant_id=merchant_id, customer_id=customer_id, return_url="")
    data = load_portal_data(session=session, access=access)
    invoices = session.scalars(
        select(Invoice)
        .where(
            Invoice.customer_id == customer_id,
            Invoice.merchant_id == merchant_id,
            Invoice.status.in_(InvoiceStatus.customer_visible()),
        )
        .order_by(Invoice.created_at.desc(), Invoice.id)
        .limit(PREVIEW_INVOICE_LIMIT)
        .options(selectinload(Invoice.lines))
    )
    return PreviewCustomer(data=data, invoices=tuple(invoice_view(invoice, with_lines=True) for invoice in invoices))


def preview_view(
    *,
    draft: PortalSettingsView,
    account: AccountDetails,
    data: CustomerPortalData,
    icon_src: str | None,
    logo_src: str | None,
) -> PortalView:
    """The portal as `data`'s customer would see it with the draft settings (pure and cheap: runs per keystroke)."""
    return compose_portal_view(
        settings=draft,
        business_name=account.public_business_name,
        data=data,
        locale=negotiate_locale(data.customer.locale, ""),
        time_zone=account.time_zone,
        return_url=draft.default_return_url or None,
        icon_src=icon_src,
        logo_src=logo_src,
        is_preview=True,
    )


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
    # JSON has lists where the view has tuples (billing fields, prices, pause durations).
    draft = PortalSettingsView(
        **{name: tuple(value) if isinstance(value, list) else value for name, value in draft_values.items()}
    )
    if draft.merchant_id != merchant_id:
        raise NotFound("preview")
    customer_id = payload.get("customer_id")
    return PreviewRequest(draft=draft, customer_id=customer_id if isinstance(customer_id, str) else None)
