"""The view of each resource, built from its row: what services return to pages and components."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import InvoiceStatus, PaymentStatus, PortalLinkStatus
from app.models import Customer, Invoice, Merchant, Payment, PaymentMethod, PortalLink, Price, Subscription
from app.views import (
    Address,
    CustomerView,
    Discount,
    InvoiceLineView,
    InvoiceView,
    PaymentMethodView,
    PaymentView,
    PriceView,
    SubscriptionView,
)

# Customer rows keep two addresses in prefixed columns: `address_line1`… (billing) and `shipping_line1`….
AddressPrefix = Literal["address", "shipping"]
ADDRESS_PARTS = ("line1", "line2", "city", "postal_code", "state", "country")


def address_of(row: Customer | Merchant, prefix: AddressPrefix) -> Address:
    """A customer's billing (`address`) or shipping address, or a merchant's (`address`) business address."""
    return Address(**{part: getattr(row, f"{prefix}_{part}") for part in ADDRESS_PARTS})


def address_columns(prefix: AddressPrefix, address: Address) -> dict[str, str]:
    """Customer columns for an address: `address_line1`… for billing, `shipping_line1`… for shipping."""
    return {f"{prefix}_{part}": getattr(address, part) for part in ADDRESS_PARTS}


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        id=customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        locale=customer.locale,
        address=address_of(customer, "address"),
        shipping_name=customer.shipping_name,
        shipping_phone=customer.shipping_phone,
        shipping_address=address_of(customer, "shipping"),
        tax_id_type=customer.tax_id_type,
        tax_id_value=customer.tax_id_value,
        credit_balance=customer.credit_balance,
        credit_currency=customer.credit_currency,
    )


def price_view(price: Price) -> PriceView:
    return PriceView(
        id=price.id,
        product_name=price.product.name,
        nickname=price.nickname,
        unit_amount=price.unit_amount,
        currency=price.currency,
        interval=price.interval,
        interval_count=price.interval_count,
    )


def subscription_view(
    subscription: Subscription, *, amount_owed: int = 0, open_invoice: InvoiceView | None = None
) -> SubscriptionView:
    item = subscription.items[0]
    bills_again = not subscription.status.is_ended and not subscription.cancel_at_period_end
    if subscription.pause_starts_at is not None and subscription.pause_resumes_at is None:
        bills_again = False  # paused (or about to be) until the customer resumes it
    scheduled = subscription.scheduled_price if subscription.scheduled_price_id else None
    next_price = scheduled or item.price
    next_quantity = subscription.scheduled_quantity or item.quantity if scheduled else item.quantity
    discount = discount_of(subscription)
    next_amount = next_price.unit_amount * next_quantity
    if discount is not None:
        next_amount -= discount.off(next_amount)
    return SubscriptionView(
        id=subscription.id,
        status=subscription.status,
        price=price_view(item.price),
        quantity=item.quantity,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        trial_end=subscription.trial_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        canceled_at=subscription.canceled_at,
        next_invoice_amount=next_amount if bills_again else None,
        pause_starts_at=subscription.pause_starts_at,
        pause_resumes_at=subscription.pause_resumes_at,
        scheduled_price=price_view(scheduled) if scheduled else None,
        scheduled_quantity=subscription.scheduled_quantity if scheduled else None,
        amount_owed=amount_owed,
        open_invoice=open_invoice,
        retention_offered_at=subscription.retention_offered_at,
        retention_accepted_at=subscription.retention_accepted_at,
        discount=discount,
    )


def discount_of(subscription: Subscription) -> Discount | None:
    """The discount still taken off the subscription's next invoices, if any."""
    if subscription.discount_kind is None or subscription.discount_invoices_left <= 0:
        return None
    return Discount(
        kind=subscription.discount_kind, value=subscription.discount_value, invoices=subscription.discount_invoices_left
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


def invoices_awaiting_authentication(session: Session, invoices: Iterable[Invoice]) -> set[str]:
    """The ids of those open invoices whose latest payment waits for the customer's authentication (one query)."""
    open_ids = [invoice.id for invoice in invoices if invoice.status == InvoiceStatus.OPEN]
    if not open_ids:
        return set()
    return set(
        session.scalars(
            select(Payment.invoice_id).where(
                Payment.invoice_id.in_(open_ids), Payment.status == PaymentStatus.REQUIRES_ACTION
            )
        )
    )


def invoice_view(invoice: Invoice, *, with_lines: bool = False, requires_action: bool = False) -> InvoiceView:
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
        status=invoice.status,
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
        requires_action=requires_action,
    )


def payment_view(payment: Payment, invoice_number: str) -> PaymentView:
    return PaymentView(
        id=payment.id,
        invoice_number=invoice_number,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        gateway=payment.gateway,
        gateway_payment_id=payment.gateway_payment_id or "",
        failure_message=payment.failure_message,
        off_session=payment.off_session,
        created_at=payment.created_at,
    )


def link_status(link: PortalLink, now: datetime) -> PortalLinkStatus:
    if link.revoked_at is not None:
        return PortalLinkStatus.REVOKED
    if link.expires_at <= now:
        return PortalLinkStatus.EXPIRED
    return PortalLinkStatus.ACTIVE
