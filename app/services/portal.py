"""The customer portal's use cases: what a verified link's customer sees, and the changes they may make.

Every function is scoped by `access` (the verified link's customer and merchant): objects of anyone else raise
`NotFound`; features the merchant switched off raise `Forbidden`, whatever the UI shows.
"""

from __future__ import annotations

import logging
import re
from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.clock import Clock
from app.errors import Forbidden, NotFound, ValidationFailed
from app.i18n import N_, is_supported, negotiate_locale
from app.models import (
    BillingField,
    CancelMode,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Merchant,
    PaymentMethod,
    Price,
    PriceInterval,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    new_id,
)
from app.services.billing import allocate_invoice_number
from app.services.events import Actor, record_event
from app.services.portal_links import PortalAccess
from app.services.portal_settings import branding_image_url, get_portal_settings
from app.validation import (
    check_country,
    check_email,
    check_length,
    check_phone,
    check_postal_code,
    format_phone,
    normalize_email,
)
from app.views import (
    Address,
    BillingDetailsInput,
    CustomerPortalData,
    CustomerView,
    InvoiceLineView,
    InvoicePage,
    InvoiceView,
    PaymentMethodView,
    PortalSettingsView,
    PortalView,
    PriceView,
    ProrationView,
    ShippingInput,
    SubscriptionView,
)

log = logging.getLogger(__name__)

# Customers see issued invoices only: drafts are the merchant's work in progress, void ones were never owed.
CUSTOMER_INVOICE_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID)
# Subscriptions that will not bill again.
_ENDED_STATUSES = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE)
DISABLED_MESSAGE = N_("This action is not available in this portal.")


# --- Scoping --------------------------------------------------------------------------------------------------


def require_feature(settings: PortalSettingsView, feature: str) -> None:
    """Refuse an action whose portal toggle (a `PortalSettingsView` flag name) the merchant switched off."""
    if not getattr(settings, feature):
        raise Forbidden(DISABLED_MESSAGE)


def enabled_settings(*, session: Session, access: PortalAccess, feature: str) -> PortalSettingsView:
    """The merchant's saved settings, after checking that `feature` is on."""
    settings = get_portal_settings(session=session, merchant_id=access.merchant_id)
    require_feature(settings, feature)
    return settings


def not_owned(access: PortalAccess, kind: str, object_id: str) -> NotFound:
    """The NotFound for an id the link's customer does not own, logged: a guessed or foreign id is worth a look.

    Logged as a warning, not an event: the refused action's transaction is rolled back, and nothing may change.
    """
    log.warning(
        "Portal link %s of customer %s was refused %s %r: not the customer's",
        access.link_id,
        access.customer_id,
        kind,
        object_id[:64],
    )
    return NotFound(kind)


def owned_customer(session: Session, access: PortalAccess) -> Customer:
    customer = session.get(Customer, access.customer_id)
    if customer is None or customer.merchant_id != access.merchant_id or customer.deleted_at is not None:
        raise NotFound("customer")
    return customer


def owned_subscription(session: Session, access: PortalAccess, subscription_id: str) -> Subscription:
    subscription = session.scalar(
        _subscriptions_query(access).where(Subscription.id == subscription_id).with_for_update()
    )
    if subscription is None:
        raise not_owned(access, "subscription", subscription_id)
    return subscription


def owned_invoice(session: Session, access: PortalAccess, invoice_id: str, *, lock: bool = False) -> Invoice:
    query = (
        select(Invoice)
        .where(
            Invoice.id == invoice_id,
            Invoice.customer_id == access.customer_id,
            Invoice.merchant_id == access.merchant_id,
            Invoice.status.in_(CUSTOMER_INVOICE_STATUSES),
        )
        .options(selectinload(Invoice.lines))
    )
    invoice = session.scalar(query.with_for_update() if lock else query)
    if invoice is None:
        raise not_owned(access, "invoice", invoice_id)
    return invoice


def _subscriptions_query(access: PortalAccess) -> Select[Subscription]:
    return (
        select(Subscription)
        .where(Subscription.customer_id == access.customer_id, Subscription.merchant_id == access.merchant_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price).selectinload(Price.product))
    )


# --- Views ----------------------------------------------------------------------------------------------------


# Customer rows keep two addresses in prefixed columns: `address_line1`… (billing) and `shipping_line1`….
AddressPrefix = Literal["address", "shipping"]
ADDRESS_PARTS = ("line1", "line2", "city", "postal_code", "state", "country")


def _address_of(customer: Customer, prefix: AddressPrefix) -> Address:
    return Address(**{part: getattr(customer, f"{prefix}_{part}") for part in ADDRESS_PARTS})


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        locale=customer.locale,
        address=_address_of(customer, "address"),
        shipping_name=customer.shipping_name,
        shipping_phone=customer.shipping_phone,
        shipping_address=_address_of(customer, "shipping"),
        tax_id_type=customer.tax_id_type,
        tax_id_value=customer.tax_id_value,
    )


def price_view(price: Price) -> PriceView:
    return PriceView(
        id=price.id,
        product_name=price.product.name,
        nickname=price.nickname,
        unit_amount=price.unit_amount,
        currency=price.currency,
        interval=price.interval.value,
        interval_count=price.interval_count,
    )


def subscription_view(subscription: Subscription) -> SubscriptionView:
    item = subscription.items[0]
    bills_again = subscription.status not in _ENDED_STATUSES and not subscription.cancel_at_period_end
    return SubscriptionView(
        id=subscription.id,
        status=subscription.status.value,
        price=price_view(item.price),
        quantity=item.quantity,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        trial_end=subscription.trial_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        canceled_at=subscription.canceled_at,
        next_invoice_amount=item.price.unit_amount * item.quantity if bills_again else None,
    )


def payment_method_view(method: PaymentMethod) -> PaymentMethodView:
    return PaymentMethodView(
        id=method.id,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        is_default=method.is_default,
    )


def invoice_view(invoice: Invoice, *, with_lines: bool = False) -> InvoiceView:
    lines = (
        tuple(
            InvoiceLineView(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.amount,
                proration=line.proration,
            )
            for line in invoice.lines
        )
        if with_lines
        else ()
    )
    return InvoiceView(
        id=invoice.id,
        number=invoice.number,
        status=invoice.status.value,
        currency=invoice.currency,
        created_at=invoice.created_at,
        due_at=invoice.due_at,
        paid_at=invoice.paid_at,
        subtotal=invoice.subtotal,
        tax=invoice.tax,
        total=invoice.total,
        amount_due=invoice.amount_due,
        amount_paid=invoice.amount_paid,
        lines=lines,
    )


# --- Reads ----------------------------------------------------------------------------------------------------


def _subscription_order(subscription: Subscription) -> tuple[bool, float]:
    """Live subscriptions first (oldest first), then ended ones (most recently ended first)."""
    ended = subscription.status in _ENDED_STATUSES
    moment = subscription.ended_at or subscription.canceled_at or subscription.created_at
    return ended, -moment.timestamp() if ended else subscription.created_at.timestamp()


def _payment_methods(session: Session, customer_id: str) -> tuple[PaymentMethodView, ...]:
    methods = session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at, PaymentMethod.id)
    )
    return tuple(payment_method_view(method) for method in methods)


def _invoice_page(session: Session, access: PortalAccess, status: str | None, page: int, page_size: int) -> InvoicePage:
    errors: dict[str, str] = {}
    if status is not None and status not in CUSTOMER_INVOICE_STATUSES:
        errors["status"] = N_("Choose open or paid invoices, or all.")
    if page < 1:
        errors["page"] = N_("Pages start at 1.")
    if not 1 <= page_size <= 100:
        errors["page_size"] = N_("Show between 1 and 100 invoices per page.")
    if errors:
        raise ValidationFailed(errors)
    statuses = (InvoiceStatus(status),) if status else CUSTOMER_INVOICE_STATUSES
    rows = list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.customer_id == access.customer_id,
                Invoice.merchant_id == access.merchant_id,
                Invoice.status.in_(statuses),
            )
            .order_by(Invoice.created_at.desc(), Invoice.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size + 1)
        )
    )
    return InvoicePage(
        invoices=tuple(invoice_view(invoice) for invoice in rows[:page_size]),
        status_filter=status,
        page=page,
        has_next=len(rows) > page_size,
    )


def _active_prices(session: Session, merchant_id: str) -> list[Price]:
    return list(
        session.scalars(
            select(Price)
            .join(Price.product)
            .where(Price.merchant_id == merchant_id, Price.active, Product.active)
            .options(contains_eager(Price.product))
            .order_by(Price.interval, Price.unit_amount, Price.id)
        )
    )


def merchant_prices(*, session: Session, merchant_id: str) -> tuple[PriceView, ...]:
    """The merchant's active prices of active products, monthly before yearly, cheapest first."""
    return tuple(price_view(price) for price in _active_prices(session, merchant_id))


def load_portal_data(*, session: Session, access: PortalAccess, page_size: int = 10) -> CustomerPortalData:
    """The customer's account, subscriptions, cards, first invoice page and the merchant's active prices.

    A fixed number of queries whatever the customer has (no per-row loading).
    """
    customer = owned_customer(session, access)
    # The merchant's active prices first: while `prices` holds them, subscription items find their price and
    # product in the session's (weak) identity map instead of two more queries; a retired price loads on its own.
    prices = _active_prices(session, access.merchant_id)
    subscriptions = sorted(
        session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == access.customer_id, Subscription.merchant_id == access.merchant_id)
            .options(selectinload(Subscription.items))
        ),
        key=_subscription_order,
    )
    return CustomerPortalData(
        customer=customer_view(customer),
        subscriptions=tuple(subscription_view(subscription) for subscription in subscriptions),
        payment_methods=_payment_methods(session, customer.id),
        invoices=_invoice_page(session, access, None, 1, page_size),
        available_prices=tuple(price_view(price) for price in prices),
    )


def list_invoices(
    *, session: Session, access: PortalAccess, status: str | None, page: int, page_size: int = 10
) -> InvoicePage:
    """One page of the customer's open and paid invoices, newest first; `status` "open"/"paid" filters."""
    enabled_settings(session=session, access=access, feature="invoice_history")
    return _invoice_page(session, access, status or None, page, page_size)


def get_invoice(*, session: Session, access: PortalAccess, invoice_id: str) -> InvoiceView:
    """One of the customer's invoices with its lines."""
    enabled_settings(session=session, access=access, feature="invoice_history")
    return invoice_view(owned_invoice(session, access, invoice_id), with_lines=True)


def compose_portal_view(
    *,
    settings: PortalSettingsView,
    business_name: str,
    data: CustomerPortalData,
    locale: str,
    time_zone: str,
    return_url: str | None,
    icon_src: str | None,
    logo_src: str | None,
    is_preview: bool = False,
) -> PortalView:
    """What the portal renders (pure: the settings preview calls it on every keystroke).

    `data.available_prices` is narrowed to the prices customers may switch to: all of them are dropped when plan
    switching is off, so the UI can offer exactly what it receives.
    """
    allowed = set(settings.switchable_price_ids) if settings.plan_switching else set()
    prices = tuple(price for price in data.available_prices if price.id in allowed)
    return PortalView(
        business_name=business_name,
        icon_src=icon_src,
        logo_src=logo_src,
        settings=settings,
        data=replace(data, available_prices=prices),
        locale=locale,
        time_zone=time_zone,
        return_url=return_url or None,
        is_preview=is_preview,
    )


def load_portal_view(
    *, session: Session, access: PortalAccess, locale: str | None = None, accept_language: str = ""
) -> PortalView:
    """The live portal for a verified link, with the merchant's saved settings.

    Locale: `locale` (the customer's switch) if supported, else the customer's record, else `Accept-Language`,
    else en_US. Return URL: the link's, else the settings' default, else none.
    """
    settings = get_portal_settings(session=session, merchant_id=access.merchant_id)
    merchant = session.get(Merchant, access.merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    data = load_portal_data(session=session, access=access)
    return compose_portal_view(
        settings=settings,
        business_name=merchant.public_business_name,
        data=data,
        locale=negotiate_locale(locale if locale and is_supported(locale) else data.customer.locale, accept_language),
        time_zone=merchant.time_zone,
        return_url=access.return_url or settings.default_return_url or None,
        icon_src=branding_image_url(settings, "icon"),
        logo_src=branding_image_url(settings, "logo"),
    )


# --- Subscriptions: cancel, undo, switch plans ------------------------------------------------------------------

CANCELLATION_REASONS: dict[str, str] = {
    "too_expensive": "It's too expensive",
    "missing_features": "Some features are missing",
    "switched_service": "I'm switching to a different service",
    "unused": "I don't use the service enough",
    "customer_service": "Customer service was less than expected",
    "too_complex": "Ease of use was less than expected",
    "low_quality": "Quality was less than expected",
    "other": "Other reason",
}
MAX_COMMENT_LENGTH = 500
MAX_QUANTITY = 1000


def record_portal_event(
    session: Session,
    access: PortalAccess,
    event_type: str,
    object_id: str,
    data: Mapping[str, object],
    actor: Actor,
    clock: Clock,
) -> None:
    """Record what the customer did, on their account, with who did it (link, IP, user agent)."""
    record_event(
        session=session,
        merchant_id=access.merchant_id,
        customer_id=access.customer_id,
        event_type=event_type,
        object_id=object_id,
        data=dict(data),
        actor=actor,
        clock=clock,
    )


def cancel_subscription(
    *,
    session: Session,
    access: PortalAccess,
    subscription_id: str,
    reason: str = "",
    comment: str = "",
    actor: Actor,
    clock: Clock,
) -> SubscriptionView:
    """Cancel as the merchant's settings say: immediately, or at the end of the billing period.

    Idempotent: cancelling what is already cancelled (or already pending in at-period-end mode) changes nothing and
    records no event. The reason (a `CANCELLATION_REASONS` key) and comment are kept only when reasons are enabled.
    """
    settings = enabled_settings(session=session, access=access, feature="cancel_subscriptions")
    subscription = owned_subscription(session, access, subscription_id)
    if settings.cancellation_reasons:
        errors = {}
        if reason and reason not in CANCELLATION_REASONS:
            errors["reason"] = N_("Choose one of the reasons.")
        if message := check_length(comment, MAX_COMMENT_LENGTH):
            errors["comment"] = message
        if errors:
            raise ValidationFailed(errors)
    else:
        reason = comment = ""
    immediately = settings.cancel_mode == CancelMode.IMMEDIATELY.value
    if subscription.status in _ENDED_STATUSES or (subscription.cancel_at_period_end and not immediately):
        return subscription_view(subscription)
    now = clock()
    subscription.cancellation_reason = reason
    subscription.cancellation_comment = comment.strip()
    if immediately:
        subscription.status = SubscriptionStatus.CANCELED
        subscription.cancel_at_period_end = False
        subscription.canceled_at = subscription.ended_at = now
        event_type = "customer.subscription.deleted"
    else:
        subscription.cancel_at_period_end = True
        subscription.canceled_at = now
        event_type = "customer.subscription.updated"
    data = {"status": subscription.status.value, "cancel_at_period_end": subscription.cancel_at_period_end}
    record_portal_event(session, access, event_type, subscription.id, {**data, "reason": reason}, actor, clock)
    return subscription_view(subscription)


def undo_cancellation(
    *, session: Session, access: PortalAccess, subscription_id: str, actor: Actor, clock: Clock
) -> SubscriptionView:
    """Keep a subscription that was going to end at the period end ("Don't cancel"). Idempotent."""
    enabled_settings(session=session, access=access, feature="cancel_subscriptions")
    subscription = owned_subscription(session, access, subscription_id)
    if subscription.status in _ENDED_STATUSES:
        raise ValidationFailed({"subscription": N_("This subscription has already ended.")})
    if not subscription.cancel_at_period_end:
        return subscription_view(subscription)
    subscription.cancel_at_period_end = False
    subscription.canceled_at = None
    subscription.cancellation_reason = subscription.cancellation_comment = ""
    data = {"status": subscription.status.value, "cancel_at_period_end": False}
    record_portal_event(session, access, "customer.subscription.updated", subscription.id, data, actor, clock)
    return subscription_view(subscription)


def add_interval(start: datetime, interval: str, count: int = 1) -> datetime:
    """`start` plus `count` calendar months or years; the day is clamped (31 Jan + 1 month = 28/29 Feb)."""
    months = count * (12 if interval == PriceInterval.YEAR.value else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))


def prorate(amount: int, remaining: timedelta, period: timedelta) -> int:
    """`amount * remaining / period` in whole minor units, rounded half up (exact integer arithmetic)."""
    period_us = max(period // timedelta(microseconds=1), 1)
    remaining_us = min(max(remaining // timedelta(microseconds=1), 0), period_us)
    return (2 * amount * remaining_us + period_us) // (2 * period_us)


def _plan_change(
    session: Session, access: PortalAccess, subscription_id: str, price_id: str, quantity: int, now: datetime
) -> tuple[Subscription, Price, ProrationView]:
    """Check a plan change and compute its proration.

    Proration, all in integer minor units rounded half up per line: the credit is the current plan's total times
    the unused share of the period (to the microsecond); the charge is the new plan's total times the same share
    when the billing interval stays, or the full new total when it changes (the period then restarts now, as Stripe
    does). Amount due now = charge - credit when positive; otherwise nothing is due now and the difference is a
    credit on the next invoice. Trials are not prorated: the new plan starts with the next invoice.
    """
    settings = enabled_settings(session=session, access=access, feature="plan_switching")
    subscription = owned_subscription(session, access, subscription_id)
    errors: dict[str, str] = {}
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        errors["subscription"] = N_("Only an active subscription can change plans.")
    price = session.get(Price, price_id)
    item = subscription.items[0]
    if (
        price is None
        or price.merchant_id != access.merchant_id
        or price.id not in settings.switchable_price_ids
        or not price.active
        or price.currency != item.price.currency
    ):
        errors["price_id"] = N_("Choose one of the plans offered.")
    if not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = f"Choose a quantity between 1 and {MAX_QUANTITY}."
    if errors or price is None:
        raise ValidationFailed(errors)
    old_total, new_total = item.price.unit_amount * item.quantity, price.unit_amount * quantity
    same_cycle = (price.interval, price.interval_count) == (item.price.interval, item.price.interval_count)
    trialing = subscription.status == SubscriptionStatus.TRIALING
    period = subscription.current_period_end - subscription.current_period_start
    remaining = subscription.current_period_end - now
    if trialing:
        credit = charge = 0
    else:
        credit = prorate(old_total, remaining, period)
        charge = prorate(new_total, remaining, period) if same_cycle else new_total
    renewal = (
        subscription.current_period_end
        if same_cycle or trialing
        else add_interval(now, price.interval.value, price.interval_count)
    )
    view = ProrationView(
        subscription_id=subscription.id,
        price=price_view(price),
        quantity=quantity,
        currency=price.currency,
        credit=credit,
        charge=charge,
        amount_due_now=max(charge - credit, 0),
        next_invoice_credit=max(credit - charge, 0),
        next_renewal=renewal,
        next_renewal_amount=new_total,
        proration_date=now,
    )
    return subscription, price, view


def preview_plan_change(
    *, session: Session, access: PortalAccess, subscription_id: str, price_id: str, quantity: int, clock: Clock
) -> ProrationView:
    """What switching to `price_id` × `quantity` would cost now (nothing is changed)."""
    subscription, _, view = _plan_change(session, access, subscription_id, price_id, quantity, clock())
    item = subscription.items[0]
    if (item.price_id, item.quantity) == (price_id, quantity):
        raise ValidationFailed({"price_id": N_("This is already your plan. Choose another plan or quantity.")})
    return view


def change_plan(
    *,
    session: Session,
    access: PortalAccess,
    subscription_id: str,
    price_id: str,
    quantity: int,
    actor: Actor,
    clock: Clock,
) -> SubscriptionView:
    """Switch plan/quantity now and bill the proration (see `_plan_change`) on a new invoice.

    When something is due, an open invoice is issued for it now (paid with "Pay now" or by the billing clock's
    collection). When the credit covers the charge, the proration lines wait on a draft invoice that the billing
    clock folds into the next renewal invoice, so the credit is taken off it. Asking for the current plan again
    changes nothing (a double click is harmless).
    """
    now = clock()
    subscription, price, proration = _plan_change(session, access, subscription_id, price_id, quantity, now)
    item = subscription.items[0]
    if (item.price_id, item.quantity) == (price_id, quantity):
        return subscription_view(subscription)
    old_price, old_quantity = item.price, item.quantity
    invoice_id = None
    if proration.credit or proration.charge:
        invoice = _proration_invoice(session, subscription, old_price, old_quantity, price, proration)
        invoice_id = invoice.id
    item.price, item.price_id, item.quantity = price, price.id, quantity
    if proration.next_renewal != subscription.current_period_end:
        subscription.current_period_start, subscription.current_period_end = now, proration.next_renewal
    data = {
        "previous_price_id": old_price.id,
        "previous_quantity": old_quantity,
        "price_id": price.id,
        "quantity": quantity,
        "proration_invoice_id": invoice_id,
    }
    record_portal_event(session, access, "customer.subscription.updated", subscription.id, data, actor, clock)
    session.flush()
    return subscription_view(subscription)


def _proration_invoice(
    session: Session,
    subscription: Subscription,
    old_price: Price,
    old_quantity: int,
    price: Price,
    proration: ProrationView,
) -> Invoice:
    now = proration.proration_date
    total = proration.charge - proration.credit
    invoice = Invoice(
        id=new_id("in")(),
        merchant_id=subscription.merchant_id,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        status=InvoiceStatus.OPEN if total > 0 else InvoiceStatus.DRAFT,
        billing_reason="subscription_update",
        currency=proration.currency,
        subtotal=total,
        tax=0,
        total=total,
        amount_due=max(total, 0),
        amount_paid=0,
        period_start=now,
        period_end=proration.next_renewal,
        created_at=now,
        due_at=now if total > 0 else None,
    )
    # Drafts are never shown to customers and are merged into the renewal invoice, so they take no number.
    invoice.number = allocate_invoice_number(session, subscription.merchant_id) if total > 0 else f"draft-{invoice.id}"
    lines = [
        (f"Unused time on {old_quantity} × {_plan_name(old_price)}", old_quantity, -proration.credit, old_price),
        (f"Remaining time on {proration.quantity} × {_plan_name(price)}", proration.quantity, proration.charge, price),
    ]
    for position, (description, quantity, amount, line_price) in enumerate(lines):
        if amount:
            invoice.lines.append(
                InvoiceLine(
                    position=position,
                    description=description,
                    quantity=quantity,
                    unit_amount=line_price.unit_amount,
                    amount=amount,
                    price_id=line_price.id,
                    proration=True,
                    period_start=now,
                    period_end=proration.next_renewal,
                )
            )
    session.add(invoice)
    session.flush()
    return invoice


def _plan_name(price: Price) -> str:
    return price.nickname or price.product.name


# --- Billing details and shipping --------------------------------------------------------------------------------

TAX_ID_TYPES: dict[str, tuple[str, str, str]] = {
    # value: (label, pattern, example)
    "eu_vat": ("EU VAT number", r"[A-Z]{2}[0-9A-Z+*.]{2,13}", "DE123456789"),
    "gb_vat": ("UK VAT number", r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})", "GB123456789"),
    "ch_vat": ("Swiss VAT number", r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)", "CHE-123.456.789 MWST"),
    "us_ein": ("US EIN", r"\d{2}-?\d{7}", "12-3456789"),
    "ca_bn": ("Canadian BN", r"\d{9}", "123456789"),
    "au_abn": ("Australian ABN", r"\d{11}", "12345678912"),
    "cn_tin": ("Chinese tax ID", r"[0-9A-Z]{18}", "123456789012345678"),
    "jp_cn": ("Japanese corporate number", r"\d{13}", "1234567891234"),
}
_ADDRESS_LIMITS = {"line1": 120, "line2": 120, "city": 80, "postal_code": 20, "state": 80}


def _address_errors(address: Address, prefix: str) -> dict[str, str]:
    """Errors keyed `<prefix>.line1` etc.; an address needs a street, city, country and (where used) postal code."""
    errors = {
        f"{prefix}.{name}": message
        for name, limit in _ADDRESS_LIMITS.items()
        if (message := check_length(getattr(address, name), limit, required=name in ("line1", "city")))
    }
    if message := check_country(address.country):
        errors[f"{prefix}.country"] = message
    elif (message := check_postal_code(address.country, address.postal_code)) and f"{prefix}.postal_code" not in errors:
        errors[f"{prefix}.postal_code"] = message
    return errors


def _clean_address(address: Address) -> Address:
    return Address(
        line1=address.line1.strip(),
        line2=address.line2.strip(),
        city=address.city.strip(),
        postal_code=address.postal_code.strip().upper(),
        state=address.state.strip(),
        country=address.country.strip().upper(),
    )


def _tax_id_errors(tax_type: str, value: str) -> dict[str, str]:
    if not tax_type and not value:
        return {}
    if tax_type not in TAX_ID_TYPES:
        return {"tax_id_type": N_("Choose the type of tax ID.")}
    label, pattern, example = TAX_ID_TYPES[tax_type]
    if not re.fullmatch(pattern, value):
        return {"tax_id_value": f"Enter a valid {label}, like {example}."}
    return {}


def update_billing_details(
    *, session: Session, access: PortalAccess, details: BillingDetailsInput, actor: Actor, clock: Clock
) -> CustomerView:
    """Save the billing fields the merchant lets customers edit; nothing is saved unless every field is valid.

    A field left None is kept; a value for a field the merchant did not enable is refused (Forbidden). An empty
    phone, address (all parts blank) or tax ID (type and value blank) removes it; name and email are required.
    """
    settings = enabled_settings(session=session, access=access, feature="billing_details_update")
    given = {
        BillingField.NAME: details.name is not None,
        BillingField.EMAIL: details.email is not None,
        BillingField.PHONE: details.phone is not None,
        BillingField.ADDRESS: details.address is not None,
        BillingField.TAX_ID: details.tax_id_type is not None or details.tax_id_value is not None,
    }
    if any(present and field.value not in settings.billing_fields for field, present in given.items()):
        raise Forbidden(DISABLED_MESSAGE)
    customer = owned_customer(session, access)
    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    if details.name is not None:
        name = details.name.strip()
        errors.update({"name": message} if (message := check_length(name, 120, required=True)) else {})
        changes["name"] = name
    if details.email is not None:
        email = details.email.strip()
        if message := check_email(email) if email else N_("Enter your email address."):
            errors["email"] = message
        else:
            changes["email"] = normalize_email(email)
    if details.phone is not None:
        phone = details.phone.strip()
        if phone and (message := check_phone(phone)):
            errors["phone"] = message
        else:
            changes["phone"] = format_phone(phone) if phone else ""
    if details.address is not None:
        address = _clean_address(details.address)
        if not address.is_empty:
            errors.update(_address_errors(address, "address"))
        changes.update(_address_columns("address", address))
    if given[BillingField.TAX_ID]:
        tax_type = (details.tax_id_type or "").strip()
        value = (details.tax_id_value or "").strip().upper()
        errors.update(_tax_id_errors(tax_type, value))
        changes.update(tax_id_type=tax_type, tax_id_value=value)
    if errors:
        raise ValidationFailed(errors)
    return _save_customer(session, access, customer, changes, actor, clock)


def _address_columns(prefix: AddressPrefix, address: Address) -> dict[str, str]:
    """Customer columns for an address: `address_line1`… for billing, `shipping_line1`… for shipping."""
    return {f"{prefix}_{part}": getattr(address, part) for part in ADDRESS_PARTS}


def _save_customer(
    session: Session,
    access: PortalAccess,
    customer: Customer,
    changes: dict[str, object],
    actor: Actor,
    clock: Clock,
) -> CustomerView:
    """Apply changed columns and record `customer.updated` naming them (not their values); no change, no event."""
    changed = sorted(name for name, value in changes.items() if getattr(customer, name) != value)
    for name in changed:
        setattr(customer, name, changes[name])
    if changed:
        record_portal_event(session, access, "customer.updated", customer.id, {"changed": changed}, actor, clock)
    return customer_view(customer)


def update_shipping(
    *, session: Session, access: PortalAccess, shipping: ShippingInput, actor: Actor, clock: Clock
) -> CustomerView:
    """Save the shipping name, phone and address (or copy the billing address with `same_as_billing`)."""
    enabled_settings(session=session, access=access, feature="shipping_information")
    customer = owned_customer(session, access)
    billing = customer_view(customer)
    name, phone = shipping.name.strip(), shipping.phone.strip()
    address = _clean_address(shipping.address)
    if shipping.same_as_billing:
        if billing.address.is_empty:
            raise ValidationFailed({"same_as_billing": N_("Add a billing address first.")})
        address, name, phone = billing.address, name or billing.name, phone or billing.phone
    errors = _address_errors(address, "address")
    if message := check_length(name, 120, required=True):
        errors["name"] = message
    if phone and (message := check_phone(phone)):
        errors["phone"] = message
    if errors:
        raise ValidationFailed(errors)
    changes: dict[str, object] = {
        "shipping_name": name,
        "shipping_phone": format_phone(phone) if phone else "",
        **_address_columns("shipping", address),
    }
    return _save_customer(session, access, customer, changes, actor, clock)


# --- The preview's sample customer ------------------------------------------------------------------------------


def _sample_prices(currency: str) -> tuple[PriceView, ...]:
    plans = (("starter", "Starter", 900), ("team", "Team", 2900), ("pro", "Pro", 9900))
    return tuple(
        PriceView(
            id=f"price_sample_{key}_{interval}",
            product_name=name,
            nickname=f"{name} {'monthly' if interval == PriceInterval.MONTH else 'yearly'}",
            unit_amount=monthly if interval == PriceInterval.MONTH else monthly * 10,
            currency=currency,
            interval=interval.value,
            interval_count=1,
        )
        for key, name, monthly in plans
        for interval in (PriceInterval.MONTH, PriceInterval.YEAR)
    )


def paginate_invoices(
    invoices: Sequence[InvoiceView], *, status: str | None, page: int, page_size: int = 10
) -> InvoicePage:
    """One page of an in-memory invoice list (newest first), for the preview's sample customer."""
    matching = [invoice for invoice in invoices if status is None or invoice.status == status]
    start = (max(page, 1) - 1) * page_size
    return InvoicePage(
        invoices=tuple(matching[start : start + page_size]),
        status_filter=status,
        page=max(page, 1),
        has_next=len(matching) > start + page_size,
    )


def sample_invoices(*, now: datetime, currency: str = "USD") -> tuple[InvoiceView, ...]:
    """The sample customer's 12 monthly invoices, newest (open) first, with their lines."""
    price = _sample_prices(currency)[2]
    amount = price.unit_amount * 3
    period_start = _sample_period_start(now)
    invoices: list[InvoiceView] = []
    for month in range(12):
        issued = period_start - timedelta(days=30 * month)
        is_open = month == 0
        invoices.append(
            InvoiceView(
                id=f"in_sample{month + 1}",
                number=f"SAMPLE-{12 - month:04d}",
                status=(InvoiceStatus.OPEN if is_open else InvoiceStatus.PAID).value,
                currency=currency,
                created_at=issued,
                due_at=issued + timedelta(days=7),
                paid_at=None if is_open else issued + timedelta(hours=1),
                subtotal=amount,
                tax=0,
                total=amount,
                amount_due=amount if is_open else 0,
                amount_paid=0 if is_open else amount,
                lines=(
                    InvoiceLineView(
                        description=f"3 × {price.nickname}",
                        quantity=3,
                        unit_amount=price.unit_amount,
                        amount=amount,
                        proration=False,
                    ),
                ),
            )
        )
    return tuple(invoices)


def _sample_period_start(now: datetime) -> datetime:
    return (now - timedelta(days=12)).replace(hour=0, minute=0, second=0, microsecond=0)


def sample_portal_data(
    *, now: datetime, currency: str = "USD", prices: Sequence[PriceView] | None = None
) -> CustomerPortalData:
    """A realistic made-up customer, Jenny Rosen, for the settings preview (deterministic for a given `now`).

    `prices`: the merchant's own prices (`merchant_prices`), so that the preview offers the plans the merchant
    allows; without them a made-up Starter/Team/Pro catalog is used. The subscriptions use the sample plans.
    """
    sample = _sample_prices(currency)
    team_monthly, pro_yearly = sample[2], sample[5]
    period_start = _sample_period_start(now)
    yearly_start = period_start - timedelta(days=200)
    subscriptions = (
        SubscriptionView(
            id="sub_sample1",
            status=SubscriptionStatus.ACTIVE.value,
            price=team_monthly,
            quantity=3,
            current_period_start=period_start,
            current_period_end=period_start + timedelta(days=30),
            trial_end=None,
            cancel_at_period_end=False,
            canceled_at=None,
            next_invoice_amount=team_monthly.unit_amount * 3,
        ),
        SubscriptionView(
            id="sub_sample2",
            status=SubscriptionStatus.ACTIVE.value,
            price=pro_yearly,
            quantity=1,
            current_period_start=yearly_start,
            current_period_end=yearly_start + timedelta(days=365),
            trial_end=None,
            cancel_at_period_end=True,
            canceled_at=now - timedelta(days=3),
            next_invoice_amount=None,
        ),
    )
    cards = (
        PaymentMethodView(
            id="pm_sample1", brand="visa", last4="4242", exp_month=8, exp_year=now.year + 2, is_default=True
        ),
        PaymentMethodView(
            id="pm_sample2", brand="mastercard", last4="4444", exp_month=3, exp_year=now.year + 1, is_default=False
        ),
    )
    address = Address(line1="510 Townsend Street", city="San Francisco", postal_code="94103", state="CA", country="US")
    return CustomerPortalData(
        customer=CustomerView(
            id="cus_sample",
            name="Jenny Rosen",
            email="jenny.rosen@example.com",
            phone="+1 415-555-0100",
            locale="en_US",
            address=address,
            shipping_name="Jenny Rosen",
            shipping_phone="+1 415-555-0100",
            shipping_address=address,
            tax_id_type="us_ein",
            tax_id_value="12-3456789",
        ),
        subscriptions=subscriptions,
        payment_methods=cards,
        invoices=paginate_invoices(sample_invoices(now=now, currency=currency), status=None, page=1),
        available_prices=tuple(prices) if prices is not None else sample,
    )
