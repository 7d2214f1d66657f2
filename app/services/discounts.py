"""Discounts on a subscription's invoices: the accepted retention offer, taken off its next N invoices."""

from __future__ import annotations

from app.enums import DiscountKind
from app.models import Invoice, InvoiceLine, Subscription
from app.money import format_money
from app.services.resource_views import discount_of


def apply_discount(subscription: Subscription, invoice: Invoice) -> None:
    """Take the subscription's discount off the new period's charges (not off proration lines), with a line that
    says so, and count the invoice as one of the discounted ones (even when nothing was left to take off)."""
    discount = discount_of(subscription)
    if discount is None:
        return
    charges = sum(line.amount for line in invoice.lines if not line.proration)
    off = discount.off(charges)
    subscription.discount_invoices_left -= 1
    if not off:
        return
    what = (
        f"{discount.value}% off"
        if discount.kind == DiscountKind.PERCENT
        else f"{format_money(discount.value, invoice.currency)} off"
    )
    invoice.lines.append(
        InvoiceLine(
            description=f"Discount: {what}",
            quantity=1,
            unit_amount=-off,
            amount=-off,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
        )
    )
