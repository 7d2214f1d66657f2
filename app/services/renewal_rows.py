"""The rows and event payloads of bulk renewals (app/services/renewals.py), written by multi-row Core statements.

Each payload is the object `from_row` builds, made once per renewal and changed with `model_copy` for the next step:
the renewal's steps change known fields only (a plain renewal has no pause, scheduled change or discount that
shows its period), so rebuilding and diffing the whole object at every step would only repeat the same work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.enums import EventType, InvoiceStatus, PaymentStatus
from app.gateways.base import ChargeRequest
from app.models import Event, Invoice, InvoiceLine, Subscription, new_id
from app.models.payments import Payment
from app.services.api_objects import InvoiceObject, SubscriptionObject
from app.services.events import SYSTEM, event_row

CYCLE = "subscription_cycle"  # the billing reason of a renewal's invoice
_new_invoice_id, _new_line_id = new_id("in"), new_id("il")
# What a plain renewal changes about its subscription: its `customer.subscription.updated` previous attributes.
PERIOD_FIELDS = frozenset({"current_period_start", "current_period_end"})


@dataclass
class Renewal:
    """A renewal started in the batch's first transaction, to be charged and then recorded."""

    subscription_id: str
    invoice: dict[str, Any]  # the new invoice's columns, as inserted
    lines: list[dict[str, Any]]
    opened: InvoiceObject  # the invoice as `invoice.created` shows it
    payment_id: str
    payment_method_id: str
    request: ChargeRequest


def renewed_subscription(subscription: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """The data of `customer.subscription.updated` for a subscription whose period moves to `start`–`end`
    (what `events.event_data` makes of it before and after)."""
    before = SubscriptionObject.from_row(cast(Subscription, subscription))
    after = before.model_copy(update={"current_period_start": start, "current_period_end": end})
    return {
        "object": after.model_dump(mode="json"),
        "previous_attributes": before.model_dump(mode="json", include=set(PERIOD_FIELDS)),
    }


def period_invoice_rows(
    subscription: Any, number: str, start: datetime, end: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The columns of the open invoice of the period that starts and of its lines, as `billing.start_period` makes
    them (there are no drafts to take lines from). Every column is set, defaults included: its events show them."""
    invoice_id = _new_invoice_id()
    lines: list[dict[str, Any]] = [
        {
            "id": _new_line_id(),
            "invoice_id": invoice_id,
            "position": position,
            "description": f"{item.quantity} × {item.price.nickname or item.price.product.name}",
            "quantity": item.quantity,
            "unit_amount": item.price.unit_amount,
            "amount": item.price.unit_amount * item.quantity,
            "price_id": item.price.id,
            "proration": False,
            "period_start": start,
            "period_end": end,
        }
        for position, item in enumerate(subscription.items)
    ]
    total = max(sum(line["amount"] for line in lines), 0)
    invoice: dict[str, Any] = {
        "id": invoice_id,
        "merchant_id": subscription.merchant_id,
        "customer_id": subscription.customer_id,
        "subscription_id": subscription.id,
        "number": number,
        "status": InvoiceStatus.OPEN,
        "billing_reason": CYCLE,
        "currency": subscription.items[0].price.currency,
        "subtotal": total,
        "tax": 0,
        "total": total,
        "amount_due": total,
        "amount_paid": 0,
        "period_start": start,
        "period_end": end,
        "created_at": start,
        "due_at": start,
        "paid_at": None,
        "attempt_count": 0,
        "next_payment_attempt": start,
        "last_payment_error": "",
    }
    return invoice, lines


def invoice_object(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> InvoiceObject:
    """The invoice as its events show it, built by `InvoiceObject.from_row` from the columns (it only reads them)."""
    row = SimpleNamespace(**invoice, lines=[SimpleNamespace(**line) for line in lines])
    return InvoiceObject.from_row(cast(Invoice, row))


def paid_invoice(opened: InvoiceObject, *, attempt_count: int, amount_paid: int, paid_at: datetime) -> InvoiceObject:
    """The open invoice once its charge succeeded, as `InvoiceObject.from_row` shows the row `mark_paid` leaves."""
    return opened.model_copy(
        update={
            "status": InvoiceStatus.PAID,
            "attempt_count": attempt_count,
            "amount_paid": amount_paid,
            "amount_due": 0,
            "paid_at": paid_at,
            "next_payment_attempt": None,
            "last_payment_error": None,
        }
    )


def processing_payment(renewal: Renewal, gateway: str) -> dict[str, Any]:
    """The attempt, written before the gateway is asked (as `charges.charge_invoice` does)."""
    invoice = renewal.invoice
    return {
        "id": renewal.payment_id,
        "merchant_id": invoice["merchant_id"],
        "customer_id": invoice["customer_id"],
        "invoice_id": invoice["id"],
        "payment_method_id": renewal.payment_method_id,
        "gateway": gateway,
        "gateway_payment_id": None,
        "amount": invoice["amount_due"],
        "currency": invoice["currency"],
        "off_session": True,
        "status": PaymentStatus.PROCESSING,
        "failure_message": "",
        "created_at": invoice["created_at"],
        "updated_at": invoice["created_at"],
    }


def mark_paid(session: Session, invoice_ids: list[str], gateway_payment_ids: dict[str, str | None]) -> None:
    """What `charges.apply_payment_result` and `_mark_paid` write for successful off-session attempts at their
    invoices' moments (an invoice's `created_at`, a payment's too): one statement per table and the gateway's ids."""
    session.execute(
        update(Invoice)
        .where(Invoice.id.in_(invoice_ids))
        .values(
            attempt_count=Invoice.attempt_count + 1,
            status=InvoiceStatus.PAID,
            amount_paid=Invoice.amount_paid + Invoice.amount_due,
            amount_due=0,
            paid_at=Invoice.created_at,
            next_payment_attempt=None,
            last_payment_error="",
        )
        .execution_options(synchronize_session=False)
    )
    payments = cast(Table, Payment.__table__)
    session.execute(
        update(payments)
        .where(payments.c.id == bindparam("b_id"))
        .values(
            status=PaymentStatus.SUCCEEDED,
            updated_at=payments.c.created_at,
            gateway_payment_id=bindparam("b_gateway_id"),
        ),
        [{"b_id": payment_id, "b_gateway_id": gateway_id} for payment_id, gateway_id in gateway_payment_ids.items()],
    )


def move_periods(session: Session, periods: dict[tuple[datetime, datetime], list[str]]) -> None:
    """Set the subscriptions' new periods: one statement for each (start, end), shared by all that fell due at once."""
    for (start, end), subscription_ids in periods.items():
        session.execute(
            update(Subscription)
            .where(Subscription.id.in_(subscription_ids))
            .values(current_period_start=start, current_period_end=end)
            .execution_options(synchronize_session=False)
        )


class Events:
    """Events recorded in bulk, each at its step's moment or a microsecond after the customer's latest event (as
    `charges.record_at` does one at a time), so that every customer's trail keeps its order."""

    def __init__(self, session: Session, customer_ids: set[str], earliest: datetime) -> None:
        self._session = session
        self._rows: list[dict[str, Any]] = []
        self._latest: dict[str | None, datetime] = {
            customer_id: latest
            for customer_id, latest in session.execute(
                select(Event.customer_id, func.max(Event.created_at))
                .where(Event.customer_id.in_(customer_ids), Event.created_at >= earliest)
                .group_by(Event.customer_id)
            )
        }

    def record(
        self,
        merchant_id: str,
        customer_id: str,
        event_type: EventType,
        object_id: str,
        data: dict[str, Any],
        at: datetime,
    ) -> None:
        latest = self._latest.get(customer_id)
        if latest is not None and latest >= at:
            at = latest + timedelta(microseconds=1)
        self._latest[customer_id] = at
        self._rows.append(
            event_row(
                merchant_id=merchant_id,
                customer_id=customer_id,
                event_type=event_type,
                object_id=object_id,
                data=data,
                actor=SYSTEM,
                created_at=at,
            )
        )

    def insert(self) -> None:
        insert_rows(self._session, Event, self._rows)


# Core statements on the tables, executed for many rows at once: the ORM's bulk modes spend longer on each row.
_Model = type[Invoice] | type[InvoiceLine] | type[Payment] | type[Event]


def insert_rows(session: Session, model: _Model, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(cast(Table, model.__table__)), rows)
