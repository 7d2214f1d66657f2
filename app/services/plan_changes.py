"""What plan changes leave for the billing clock: a change scheduled for the end of the period, and credit for
unused time, which new invoices use up (or carry forward to the customer's credit balance)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Customer, Invoice, InvoiceLine, Subscription


def apply_scheduled_change(subscription: Subscription) -> bool:
    """Put the scheduled price and quantity on the subscription's item; False when nothing was scheduled."""
    if subscription.scheduled_price_id is None:
        return False
    item = subscription.items[0]
    item.price_id, item.price = subscription.scheduled_price_id, subscription.scheduled_price  # type: ignore[assignment]
    item.quantity = subscription.scheduled_quantity or item.quantity
    subscription.scheduled_price_id = subscription.scheduled_quantity = None
    subscription.scheduled_price = None
    return True


CREDIT_CARRIED = "Unused credit carried forward to your account balance"
CREDIT_APPLIED = "Account credit applied"


def settle_credit(session: Session, invoice: Invoice) -> None:
    """Balance a new invoice against the customer's credit, with a line that says so.

    A plan change's credit larger than the invoice is not lost: the excess goes to the customer's credit balance
    (the invoice comes to zero). An invoice that comes to more than zero uses up the balance first, when it is in
    the invoice's currency.
    """
    with session.no_autoflush:  # the invoice is added to the session after this
        customer = session.scalars(select(Customer).where(Customer.id == invoice.customer_id).with_for_update()).one()
    total = sum(line.amount for line in invoice.lines)
    same_currency = customer.credit_currency in ("", invoice.currency) or customer.credit_balance == 0
    if total < 0 and same_currency:
        customer.credit_balance += -total
        customer.credit_currency = invoice.currency
        invoice.lines.append(_credit_line(invoice, CREDIT_CARRIED, -total))
    elif total > 0 and customer.credit_balance > 0 and customer.credit_currency == invoice.currency:
        used = min(customer.credit_balance, total)
        customer.credit_balance -= used
        invoice.lines.append(_credit_line(invoice, CREDIT_APPLIED, -used))


def _credit_line(invoice: Invoice, description: str, amount: int) -> InvoiceLine:
    return InvoiceLine(
        description=description,
        quantity=1,
        unit_amount=amount,
        amount=amount,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
    )
