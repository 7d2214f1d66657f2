"""What the portal shows: the customer's account, subscriptions, cards, invoices and the plans on offer."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.enums import (
    InvoiceStatus,
)
from app.errors import ValidationFailed
from app.i18n import N_, is_supported, negotiate_locale
from app.models import (
    Customer,
    Invoice,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    utcnow,
)
from app.services.portal.access import (
    enabled_settings,
    owned_customer,
    payable_or_history_invoice,
)
from app.services.portal.email_change import pending_change
from app.services.portal_links import PortalAccess
from app.services.portal_settings import branding_image_url, portal_owner
from app.services.resource_views import (
    customer_view,
    invoice_view,
    invoices_awaiting_authentication,
    payment_method_view,
    price_view,
    subscription_view,
)
from app.views import (
    CustomerPortalData,
    CustomerView,
    InvoicePage,
    InvoiceView,
    PaymentMethodView,
    PortalSettingsView,
    PortalView,
    PriceView,
    SubscriptionView,
)

log = logging.getLogger(__name__)


def _subscription_order(subscription: Subscription) -> tuple[bool, float]:
    """Live subscriptions first (oldest first), then ended ones (most recently ended first)."""
    ended = subscription.status.is_ended
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
    if status is not None and status not in InvoiceStatus.customer_visible():
        errors["status"] = N_("Choose open or paid invoices, or all.")
    if page < 1:
        errors["page"] = N_("Pages start at 1.")
    if not 1 <= page_size <= 100:
        errors["page_size"] = N_("Show between 1 and 100 invoices per page.")
    if errors:
        raise ValidationFailed(errors)
    statuses = (InvoiceStatus(status),) if status else InvoiceStatus.customer_visible()
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
    waiting = invoices_awaiting_authentication(session, rows[:page_size])
    return InvoicePage(
        invoices=tuple(invoice_view(invoice, requires_action=invoice.id in waiting) for invoice in rows[:page_size]),
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
    owing = _open_invoices(session, [subscription.id for subscription in subscriptions])
    return CustomerPortalData(
        customer=_with_pending_email(session, customer_view(customer)),
        subscriptions=_with_credit_used(
            [
                subscription_view(
                    subscription,
                    amount_owed=sum(invoice.amount_due for invoice in owing.get(subscription.id, ())),
                    open_invoice=next(iter(owing.get(subscription.id, ())), None),
                )
                for subscription in subscriptions
            ],
            customer,
        ),
        payment_methods=_payment_methods(session, customer.id),
        invoices=_invoice_page(session, access, None, 1, page_size),
        available_prices=tuple(price_view(price) for price in prices),
    )


def _open_invoices(session: Session, subscription_ids: list[str]) -> dict[str, list[InvoiceView]]:
    """Each subscription's open invoices that still ask for money, oldest first (two queries at most)."""
    if not subscription_ids:
        return {}
    rows = session.scalars(
        select(Invoice)
        .where(
            Invoice.subscription_id.in_(subscription_ids), Invoice.status == InvoiceStatus.OPEN, Invoice.amount_due > 0
        )
        .order_by(Invoice.created_at, Invoice.id)
    ).all()
    waiting = invoices_awaiting_authentication(session, rows)
    owing: dict[str, list[InvoiceView]] = {}
    for invoice in rows:
        owing.setdefault(str(invoice.subscription_id), []).append(
            invoice_view(invoice, requires_action=invoice.id in waiting)
        )
    return owing


def _with_credit_used(subscriptions: list[SubscriptionView], customer: Customer) -> tuple[SubscriptionView, ...]:
    """The next invoices as they will be charged: the customer's credit balance pays the earliest ones first."""
    credit = customer.credit_balance
    upcoming = sorted(
        (
            subscription
            for subscription in subscriptions
            if subscription.next_invoice_amount and subscription.next_invoice_at is not None
            if subscription.price.currency == customer.credit_currency
        ),
        key=lambda subscription: subscription.next_invoice_at or subscription.current_period_end,
    )
    reduced: dict[str, SubscriptionView] = {}
    for subscription in upcoming:
        if credit <= 0:
            break
        amount = subscription.next_invoice_amount or 0
        used = min(credit, amount)
        credit -= used
        reduced[subscription.id] = replace(subscription, next_invoice_amount=amount - used)
    return tuple(reduced.get(subscription.id, subscription) for subscription in subscriptions)


def list_invoices(
    *, session: Session, access: PortalAccess, status: str | None, page: int, page_size: int = 10
) -> InvoicePage:
    """One page of the customer's open and paid invoices, newest first; `status` "open"/"paid" filters."""
    enabled_settings(session=session, access=access, feature="invoice_history")
    return _invoice_page(session, access, status or None, page, page_size)


def get_invoice(*, session: Session, access: PortalAccess, invoice_id: str) -> InvoiceView:
    """One of the customer's invoices with its lines."""
    invoice = payable_or_history_invoice(session, access, invoice_id)
    waiting = invoices_awaiting_authentication(session, (invoice,))
    return invoice_view(invoice, with_lines=True, requires_action=invoice.id in waiting)


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
    switching is off, so the UI can offer exactly what it receives. `resubscribe_prices` are all of them when the
    merchant lets customers choose a price to resubscribe at.
    """
    allowed = set(settings.switchable_price_ids) if settings.plan_switching else set()
    prices = tuple(price for price in data.available_prices if price.id in allowed)
    restart_at = data.available_prices if settings.resubscribe and settings.resubscribe_price_choice else ()
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
        resubscribe_prices=restart_at,
    )


def load_portal_view(
    *, session: Session, access: PortalAccess, locale: str | None = None, accept_language: str = ""
) -> PortalView:
    """The live portal for a verified link, with the merchant's saved settings.

    Locale: `locale` (the customer's switch) if supported, else the customer's record, else `Accept-Language`,
    else en_US. Return URL: the link's, else the settings' default, else none.
    """
    owner = portal_owner(session=session, merchant_id=access.merchant_id)
    settings = owner.settings
    data = load_portal_data(session=session, access=access)
    return compose_portal_view(
        settings=settings,
        business_name=owner.business_name,
        data=data,
        locale=negotiate_locale(locale if locale and is_supported(locale) else data.customer.locale, accept_language),
        time_zone=owner.time_zone,
        return_url=access.return_url or settings.default_return_url or None,
        icon_src=branding_image_url(settings, "icon"),
        logo_src=branding_image_url(settings, "logo"),
    )


def _with_pending_email(session: Session, customer: CustomerView) -> CustomerView:
    """The customer with the new email waiting for confirmation, if any (shown with Resend and Cancel change)."""
    change = pending_change(session, customer.id, utcnow())
    return replace(customer, pending_email=change.new_email) if change else customer
