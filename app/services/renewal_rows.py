"""The rows and event payloads of bulk renewals (app/services/renewals.py), written by multi-row Core statements.

Each object is built by its `from_row` once per renewal and dumped once; the next step's payload is that dump with
the fields the step changes (a plain renewal has no pause, scheduled change or discount that shows its period), so
that no object is validated, dumped and diffed again for each event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.enums import EventType, InvoiceStatus, PaymentStatus
from app.gateways.base import ChargeRequest
from app.models import Event, Invoice, InvoiceLine, Subscription, new_ids
from app.models.payments import Payment
from app.services.api_objects import InvoiceObject, SubscriptionObject
from app.services.events import SYSTEM, event_row

CYCLE = "subscription_cycle"  # the billing reason of a renewal's invoice
# What a plain renewal changes about its subscription: its `customer.subscription.updated` previous attributes.
PERIOD_FIELDS = ("current_period_start", "current_period_end")
_TIME = TypeAdapter(datetime)  # a time as the objects' JSON dumps show it


def _json_time(moment: datetime) -> str:
    return cast(str, _TIME.dump_python(moment, mode="json"))


@dataclass
class Renewal:
    """A renewal started in the batch's first transaction, to be charged and then recorded."""

    subscription_id: str
    invoice: dict[str, Any]  # the new invoice's columns, as inserted
    lines: list[dict[str, Any]]
    opened: dict[str, Any]  # the invoice as `invoice.created` shows it (its JSON dump)
    payment_id: str
    payment_method_id: str
    request: ChargeRequest


def renewed_subscription(subscription: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """The data of `customer.subscription.updated` for a subscription whose period moves to `start`–`end`
    (what `events.event_data` makes of it before and after)."""
    before = SubscriptionObject.from_row(cast(Subscription, subscription)).model_dump(mode="json")
    after = {**before, "current_period_start": _json_time(start), "current_period_end": _json_time(end)}
    return {"object": after, "previous_attributes": {name: before[name] for name in PERIOD_FIELDS}}


def period_invoice_rows(
    subscription: Any, number: str, start: datetime, end: datetime, ids: Iterator[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The columns of the open invoice of the period that starts and of its lines (their ids taken from `ids`), as
    `billing.start_period` makes them (there are no drafts to take lines from). Every column is set, defaults
    included: its events show them."""
    invoice_id = next(ids)
    lines: list[dict[str, Any]] = [
        {
            "id": next(ids),
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


def opened_invoice(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The new invoice as its events show it: `InvoiceObject.from_row` of the columns (it only reads them), dumped."""
    row = SimpleNamespace(**invoice, lines=[SimpleNamespace(**line) for line in lines])
    return InvoiceObject.from_row(cast(Invoice, row)).model_dump(mode="json")


def paid_invoice(opened: dict[str, Any], *, attempt_count: int, amount_paid: int, paid_at: datetime) -> dict[str, Any]:
    """The open invoice's dump once its charge succeeded: `InvoiceObject.from_row` of the row `mark_paid` leaves."""
    return {
        **opened,
        "status": InvoiceStatus.PAID.value,
        "attempt_count": attempt_count,
        "amount_paid": amount_paid,
        "amount_due": 0,
        "paid_at": _json_time(paid_at),
        "next_payment_attempt": None,
        "last_payment_error": None,
    }


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
    invoices = cast(Table, Invoice.__table__)
    session.execute(
        update(invoices)
        .where(invoices.c.id.in_(invoice_ids))
        .values(
            attempt_count=invoices.c.attempt_count + 1,
            status=InvoiceStatus.PAID,
            amount_paid=invoices.c.amount_paid + invoices.c.amount_due,
            amount_due=0,
            paid_at=invoices.c.created_at,
            next_payment_attempt=None,
            last_payment_error="",
        )
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
    subscriptions = cast(Table, Subscription.__table__)
    for (start, end), subscription_ids in periods.items():
        session.execute(
            update(subscriptions)
            .where(subscriptions.c.id.in_(subscription_ids))
            .values(current_period_start=start, current_period_end=end)
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
        for row, event_id in zip(self._rows, new_ids("evt", len(self._rows)), strict=True):
            row["id"] = event_id
        insert_rows(self._session, Event, self._rows)


# Core statements on the tables, executed for many rows at once: the ORM's bulk modes spend longer on each row.
_Model = type[Invoice] | type[InvoiceLine] | type[Payment] | type[Event]


def insert_rows(session: Session, model: _Model, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(cast(Table, model.__table__)), rows)
