"""The customer portal's use cases: what a verified link's customer sees, and the changes they may make.

Every function is scoped by `access` (the verified link's customer and merchant): objects of anyone else raise
`NotFound`; features the merchant switched off raise `Forbidden`, whatever the UI shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.errors import Forbidden, NotFound, ValidationFailed
from app.i18n import is_supported, negotiate_locale
from app.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Merchant,
    PaymentMethod,
    Price,
    PriceInterval,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from app.services.portal_links import PortalAccess
from app.services.portal_settings import branding_image_url, get_portal_settings
from app.views import (
    Address,
    CustomerPortalData,
    CustomerView,
    InvoiceLineView,
    InvoicePage,
    InvoiceView,
    PaymentMethodView,
    PortalSettingsView,
    PortalView,
    PriceView,
    SubscriptionView,
)

# Customers see issued invoices only: drafts are the merchant's work in progress, void ones were never owed.
CUSTOMER_INVOICE_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID)
# Subscriptions that will not bill again.
_ENDED_STATUSES = (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE)
DISABLED_MESSAGE = "This action is not available in this portal."


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
        raise NotFound("subscription")
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
        raise NotFound("invoice")
    return invoice


def _subscriptions_query(access: PortalAccess):  # noqa: ANN202 - a Select of Subscription
    return (
        select(Subscription)
        .where(Subscription.customer_id == access.customer_id, Subscription.merchant_id == access.merchant_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price).selectinload(Price.product))
    )


# --- Views ----------------------------------------------------------------------------------------------------


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        locale=customer.locale,
        address=Address(
            line1=customer.address_line1,
            line2=customer.address_line2,
            city=customer.address_city,
            postal_code=customer.address_postal_code,
            state=customer.address_state,
            country=customer.address_country,
        ),
        shipping_name=customer.shipping_name,
        shipping_phone=customer.shipping_phone,
        shipping_address=Address(
            line1=customer.shipping_line1,
            line2=customer.shipping_line2,
            city=customer.shipping_city,
            postal_code=customer.shipping_postal_code,
            state=customer.shipping_state,
            country=customer.shipping_country,
        ),
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
        errors["status"] = "Choose open or paid invoices, or all."
    if page < 1:
        errors["page"] = "Pages start at 1."
    if not 1 <= page_size <= 100:
        errors["page_size"] = "Show between 1 and 100 invoices per page."
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


def merchant_prices(*, session: Session, merchant_id: str) -> tuple[PriceView, ...]:
    """The merchant's active prices of active products, monthly before yearly, cheapest first."""
    prices = session.scalars(
        select(Price)
        .join(Price.product)
        .where(Price.merchant_id == merchant_id, Price.active, Product.active)
        .options(selectinload(Price.product))
        .order_by(Price.interval, Price.unit_amount, Price.id)
    )
    return tuple(price_view(price) for price in prices)


def load_portal_data(*, session: Session, access: PortalAccess, page_size: int = 10) -> CustomerPortalData:
    """The customer's account, subscriptions, cards, first invoice page and the merchant's active prices.

    A fixed number of queries whatever the customer has (no per-row loading).
    """
    customer = owned_customer(session, access)
    subscriptions = sorted(session.scalars(_subscriptions_query(access)), key=_subscription_order)
    return CustomerPortalData(
        customer=customer_view(customer),
        subscriptions=tuple(subscription_view(subscription) for subscription in subscriptions),
        payment_methods=_payment_methods(session, customer.id),
        invoices=_invoice_page(session, access, None, 1, page_size),
        available_prices=merchant_prices(session=session, merchant_id=access.merchant_id),
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
