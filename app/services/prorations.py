"""Plan changes made now: what a switch of price or quantity costs (proration), and how it is applied and billed.

One definition for the portal's plan switches and the API's subscription updates.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.enums import InvoiceStatus, SubscriptionStatus
from app.models import Invoice, InvoiceLine, Price, Subscription, new_id
from app.periods import add_interval, prorate
from app.services.billing import allocate_invoice_number, plan_name
from app.services.resource_views import price_view
from app.views import ProrationView


def prorate_plan_change(
    subscription: Subscription, price: Price, quantity: int, now: datetime, *, downgrades_at_period_end: bool
) -> ProrationView:
    """What switching the subscription's (only) item to `price` × `quantity` at `now` costs; nothing is changed.

    When the merchant schedules downgrades, a cheaper total on the same billing cycle is not prorated: it is
    scheduled for the period end (`scheduled`), and nothing is due now. Otherwise, proration, all in integer minor
    units rounded half up per line: the credit is the current plan's total times the unused share of the period (to
    the microsecond); the charge is the new plan's total times the same share when the billing interval stays, or the
    full new total when it changes (the period then restarts now, as Stripe does). Amount due now = charge - credit
    when positive; otherwise nothing is due now and the difference is a credit on the next invoice. Trials are not
    prorated: the new plan starts with the next invoice.
    """
    item = subscription.items[0]
    old_total, new_total = item.price.unit_amount * item.quantity, price.unit_amount * quantity
    same_cycle = (price.interval, price.interval_count) == (item.price.interval, item.price.interval_count)
    trialing = subscription.status == SubscriptionStatus.TRIALING
    period = subscription.current_period_end - subscription.current_period_start
    remaining = subscription.current_period_end - now
    # A cheaper plan (or fewer seats) on the same cycle waits for the period end when the merchant says so.
    scheduled = downgrades_at_period_end and same_cycle and not trialing and new_total < old_total
    if trialing or scheduled:
        credit = charge = 0
    else:
        credit = prorate(old_total, remaining, period)
        charge = prorate(new_total, remaining, period) if same_cycle else new_total
    renewal = (
        subscription.current_period_end
        if same_cycle or trialing
        else add_interval(now, price.interval, price.interval_count)
    )
    return ProrationView(
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
        scheduled=scheduled,
    )


def apply_plan_change(
    session: Session, subscription: Subscription, price: Price, quantity: int, proration: ProrationView
) -> Invoice | None:
    """Switch the item now and bill the proration on a new invoice, returned when there is one (the caller records
    the events: `customer.subscription.updated`, then `invoice.created` for an open invoice).

    When something is due, an open invoice is issued for it now (paid with "Pay now" in the portal or charged by
    the caller). When the credit covers the charge, the proration lines wait on a draft invoice that the billing
    clock folds into the next renewal invoice, so the credit is taken off it. A change scheduled for the period end
    is replaced by this one.
    """
    item = subscription.items[0]
    subscription.scheduled_price_id = subscription.scheduled_quantity = None
    subscription.scheduled_price = None
    invoice = None
    if proration.credit or proration.charge:
        invoice = _proration_invoice(session, subscription, item.price, item.quantity, price, proration)
    item.price, item.price_id, item.quantity = price, price.id, quantity
    if proration.next_renewal != subscription.current_period_end:
        subscription.current_period_start, subscription.current_period_end = (
            proration.proration_date,
            proration.next_renewal,
        )
    session.flush()
    return invoice


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
        (f"Unused time on {old_quantity} × {plan_name(old_price)}", old_quantity, -proration.credit, old_price),
        (f"Remaining time on {proration.quantity} × {plan_name(price)}", proration.quantity, proration.charge, price),
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
