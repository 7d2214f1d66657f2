"""Renewals in bulk: the billing clock's common step (a period ends; the next is invoiced and charged to the default
card) for a batch of subscriptions in a few statements, instead of a few dozen statements for each subscription.

It does what the per-subscription steps in `billing.py` and `charges.py` do, with the same rows and events at the
same moments: the period moves on, `customer.subscription.updated`, an open invoice numbered in order with its lines,
`invoice.created`, a processing payment written before the gateway is asked (its id the idempotency key), then the
gateway's answers. Paid ones are recorded in bulk (`invoice.paid`); any other answer goes through
`apply_payment_result`, one by one (dunning, 3-D Secure). Subscriptions with anything else due (trial ends, pauses,
cancellations, scheduled changes, retries, proration drafts, several periods to catch up, no usable card) are left
to the per-subscription path.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.db import Database
from app.enums import ChargeStatus, EventType, InvoiceStatus, PaymentStatus, SubscriptionStatus
from app.gateways.base import ChargeRequest, GatewayPayment, GatewayUnavailable, PaymentGateway
from app.models import (
    Customer,
    Event,
    Invoice,
    InvoiceLine,
    Merchant,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
    new_id,
)
from app.models.payments import Payment
from app.periods import add_interval
from app.services import lifecycle_mails
from app.services.api_objects import ApiObject, InvoiceObject, SubscriptionObject
from app.services.charges import apply_payment_result
from app.services.events import SYSTEM, event_values
from app.views import ChargeOutcome

log = logging.getLogger(__name__)

CYCLE = "subscription_cycle"
_new_invoice_id, _new_line_id, _new_payment_id = new_id("in"), new_id("il"), new_id("py")


@dataclass
class RenewedBatch:
    """What a batch came to; `left` are the subscriptions the per-subscription path still has to look at."""

    invoices_created: int = 0
    payments_succeeded: int = 0
    outcomes: list[ChargeOutcome] = field(default_factory=list)  # the answers that were not a plain success
    left: list[str] = field(default_factory=list)


@dataclass
class _Renewal:
    subscription_id: str
    invoice: dict[str, Any]  # the new invoice's columns, as inserted
    lines: list[dict[str, Any]]
    payment_id: str
    payment_method_id: str
    request: ChargeRequest


def allocate_invoice_numbers(session: Session, merchant_id: str, count: int) -> list[str]:
    """The merchant's next `count` invoice numbers (`ACME-00042`, …), reserved atomically in one statement."""
    prefix, following = session.execute(
        update(Merchant)
        .where(Merchant.id == merchant_id)
        .values(next_invoice_number=Merchant.next_invoice_number + count)
        .returning(Merchant.invoice_prefix, Merchant.next_invoice_number)
    ).one()
    return [f"{prefix}-{number:05d}" for number in range(following - count, following)]


def renew_batch(
    *, database: Database, subscription_ids: list[str], now: datetime, gateway: PaymentGateway
) -> RenewedBatch:
    """Renew and charge the subscriptions of the batch whose only due step is a plain renewal."""
    batch = RenewedBatch()
    try:
        with database.transaction() as session:
            renewals, batch.left = _start_periods(session, subscription_ids, now, gateway)
    except IntegrityError:  # a period's invoice exists already: the per-subscription path sorts it out
        log.warning("A batch of renewals met invoices made by another run; renewing one by one")
        batch.left = list(subscription_ids)
        return batch
    batch.invoices_created = len(renewals)
    answers: list[tuple[_Renewal, GatewayPayment]] = []
    for renewal in renewals:
        try:
            answers.append((renewal, gateway.charge(renewal.request)))
        except GatewayUnavailable:  # the attempt stays due: the next run asks again, with the same idempotency key
            log.warning("Payment gateway unavailable; invoice %s is charged on the next run", renewal.invoice["id"])
    with database.transaction() as session:
        batch.payments_succeeded, answered = _record_answers(session, answers)
    batch.outcomes = [outcome for _, outcome in answered]
    # Declined or waiting for 3-D Secure: the per-subscription path looks for retries already due.
    batch.left += [
        subscription_id
        for subscription_id, outcome in answered
        if outcome.status not in (ChargeStatus.PAID, ChargeStatus.PROCESSING)
    ]
    return batch


def _start_periods(
    session: Session, subscription_ids: list[str], now: datetime, gateway: PaymentGateway
) -> tuple[list[_Renewal], list[str]]:
    """Start the next period of each plain renewal, with its invoice, events and processing payment; returns them
    and the subscriptions left for the per-subscription path."""
    # The subscriptions are locked first (on SQLite: the database's write lock), as `load_subscription` does.
    session.execute(
        update(Subscription).where(Subscription.id.in_(subscription_ids)).values(status=Subscription.status)
    )
    subscriptions = session.scalars(
        select(Subscription)
        .where(Subscription.id.in_(subscription_ids))
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price).selectinload(Price.product))
        .order_by(Subscription.id)
    ).all()
    waiting = set(  # a retry due or proration lines waiting: the per-subscription path has those steps
        session.scalars(
            select(Invoice.subscription_id).where(
                Invoice.subscription_id.in_(subscription_ids),
                (Invoice.status == InvoiceStatus.DRAFT)
                | ((Invoice.status == InvoiceStatus.OPEN) & (Invoice.next_payment_attempt <= now)),
            )
        )
    )
    customer_ids = {subscription.customer_id for subscription in subscriptions}
    # A credit balance to use up: the per-subscription path's invoice takes it off (plan_changes.settle_credit).
    in_credit = set(
        session.scalars(select(Customer.id).where(Customer.id.in_(customer_ids), Customer.credit_balance > 0))
    )
    cards: dict[str, PaymentMethod] = {}
    for card in session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id.in_(customer_ids), PaymentMethod.is_default)
    ):
        cards.setdefault(card.customer_id, card)
    plain = [
        subscription
        for subscription in subscriptions
        if subscription.id not in waiting
        and subscription.customer_id not in in_credit
        and _is_plain_renewal(subscription, now, cards.get(subscription.customer_id), gateway.name)
    ]
    renewing = {subscription.id for subscription in plain}
    left = [subscription_id for subscription_id in subscription_ids if subscription_id not in renewing]
    if not plain:
        return [], left
    paying = {subscription.customer_id for subscription in plain}
    references = dict(
        session.execute(
            select(Customer.id, Customer.gateway_customer_id).where(
                Customer.id.in_(paying), Customer.gateway == gateway.name
            )
        ).all()
    )
    numbers = _invoice_numbers(session, plain)
    events = _Events(session, paying, min(subscription.current_period_end for subscription in plain))
    renewals: list[_Renewal] = []
    for subscription, number in zip(plain, numbers, strict=True):
        start = subscription.current_period_end
        before = SubscriptionObject.from_row(subscription)
        price = subscription.items[0].price
        subscription.current_period_start = start
        subscription.current_period_end = add_interval(start, price.interval, price.interval_count)
        after = SubscriptionObject.from_row(subscription)
        owner = subscription.merchant_id, subscription.customer_id
        events.record(*owner, EventType.CUSTOMER_SUBSCRIPTION_UPDATED, after, start, previous=before)
        invoice, lines = _new_invoice(subscription, number, start)
        events.record(*owner, EventType.INVOICE_CREATED, _invoice_object(invoice, lines), start)
        card = cards[subscription.customer_id]
        payment_id = _new_payment_id()
        request = ChargeRequest(
            customer_reference=references.get(subscription.customer_id, ""),
            payment_method_id=card.gateway_payment_method_id,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            amount_minor=invoice["amount_due"],
            currency=invoice["currency"],
            idempotency_key=payment_id,
            off_session=True,
            metadata={"invoice": invoice["id"], "invoice_number": number, "payment": payment_id},
            now=start,
        )
        renewals.append(_Renewal(subscription.id, invoice, lines, payment_id, card.id, request))
    periods = [
        {"b_id": s.id, "current_period_start": s.current_period_start, "current_period_end": s.current_period_end}
        for s in plain
    ]
    session.expunge_all()  # the loaded rows were only read: the new periods are written by one statement, below
    _update(session, Subscription, periods)
    _insert(session, Invoice, [renewal.invoice for renewal in renewals])
    _insert(session, InvoiceLine, [line for renewal in renewals for line in renewal.lines])
    _insert(session, Payment, [_processing_payment(renewal, gateway.name) for renewal in renewals])
    events.insert()
    return renewals, left


def _is_plain_renewal(subscription: Subscription, now: datetime, card: PaymentMethod | None, gateway: str) -> bool:
    """An active subscription whose period ended, renewing on the same plan for one period, charged to a card of
    this gateway: anything else due is a step of the per-subscription path."""
    if (
        subscription.status != SubscriptionStatus.ACTIVE
        or subscription.cancel_at_period_end
        or subscription.pause_starts_at is not None
        or subscription.scheduled_price_id is not None
        or subscription.discount_invoices_left > 0  # the discount's line: the per-subscription path adds it
        or not subscription.items
        or subscription.current_period_end > now
        or card is None
        or card.gateway != gateway
    ):
        return False
    price = subscription.items[0].price
    following_end = add_interval(subscription.current_period_end, price.interval, price.interval_count)
    return following_end > now and sum(item.price.unit_amount * item.quantity for item in subscription.items) > 0


def _invoice_numbers(session: Session, subscriptions: list[Subscription]) -> list[str]:
    """The next invoice number of each subscription's merchant, in the order of the subscriptions."""
    counts: dict[str, int] = defaultdict(int)
    for subscription in subscriptions:
        counts[subscription.merchant_id] += 1
    reserved = {
        merchant_id: iter(allocate_invoice_numbers(session, merchant_id, count))
        for merchant_id, count in sorted(counts.items())
    }
    return [next(reserved[subscription.merchant_id]) for subscription in subscriptions]


def _new_invoice(
    subscription: Subscription, number: str, start: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The columns of the open invoice of the period that starts and of its lines, as `billing.start_period` makes
    them (there are no drafts to take lines from). Every column is set, defaults included: its events show them."""
    end = subscription.current_period_end
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


def _invoice_object(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> InvoiceObject:
    """The invoice as its events show it, built by `InvoiceObject.from_row` from the columns (it only reads them)."""
    row = SimpleNamespace(**invoice, lines=[SimpleNamespace(**line) for line in lines])
    return InvoiceObject.from_row(cast(Invoice, row))


def _processing_payment(renewal: _Renewal, gateway: str) -> dict[str, Any]:
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


def _record_answers(
    session: Session, answers: list[tuple[_Renewal, GatewayPayment]]
) -> tuple[int, list[tuple[str, ChargeOutcome]]]:
    """Record the gateway's answers: successes in bulk (`invoice.paid`), anything else as `apply_payment_result`
    records it. Returns how many were paid in bulk, and the other outcomes by subscription."""
    if not answers:
        return 0, []
    invoice_ids = [renewal.invoice["id"] for renewal, _ in answers]
    # Locked first, as `charges._locked_invoice` does: a webhook or Pay now on one of them waits, or went first.
    session.execute(update(Invoice).where(Invoice.id.in_(invoice_ids)).values(attempt_count=Invoice.attempt_count))
    invoices = {
        row.id: row
        for row in session.execute(
            select(Invoice.id, Invoice.status, Invoice.attempt_count, Invoice.amount_due, Invoice.amount_paid).where(
                Invoice.id.in_(invoice_ids)
            )
        )
    }
    processing = set(
        session.scalars(
            select(Payment.id).where(
                Payment.id.in_([renewal.payment_id for renewal, _ in answers]),
                Payment.status == PaymentStatus.PROCESSING,
            )
        )
    )
    active = set(  # a paid invoice changes nothing more about an active subscription (see `charges._mark_paid`)
        session.scalars(
            select(Subscription.id).where(
                Subscription.id.in_([renewal.subscription_id for renewal, _ in answers]),
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
        )
    )
    paid: list[tuple[_Renewal, GatewayPayment]] = []
    outcomes: list[tuple[str, ChargeOutcome]] = []
    for renewal, answer in answers:
        state = invoices[renewal.invoice["id"]]
        if (
            answer.state == "succeeded"
            and state.status == InvoiceStatus.OPEN
            and renewal.payment_id in processing
            and renewal.subscription_id in active
        ):
            paid.append((renewal, answer))
            continue
        moment = renewal.invoice["created_at"]
        outcome = apply_payment_result(
            session=session, payment_id=renewal.payment_id, result=answer, actor=SYSTEM, now=moment
        )
        outcomes.append((renewal.subscription_id, outcome))
    if not paid:
        return 0, outcomes
    session.flush()
    events = _Events(
        session,
        {renewal.invoice["customer_id"] for renewal, _ in paid},
        min(renewal.invoice["created_at"] for renewal, _ in paid),
    )
    invoice_rows: list[dict[str, Any]] = []
    payment_rows: list[dict[str, Any]] = []
    for renewal, answer in paid:
        invoice, row = renewal.invoice, invoices[renewal.invoice["id"]]
        moment = invoice["created_at"]
        # What `charges.apply_payment_result` and `_mark_paid` do with a successful off-session attempt.
        invoice.update(
            attempt_count=row.attempt_count + 1,
            status=InvoiceStatus.PAID,
            amount_paid=row.amount_paid + row.amount_due,
            amount_due=0,
            paid_at=moment,
            next_payment_attempt=None,
            last_payment_error="",
        )
        invoice_rows.append({"b_id": invoice["id"], **{name: invoice[name] for name in _PAID_COLUMNS}})
        payment_rows.append(
            {
                "b_id": renewal.payment_id,
                "status": PaymentStatus.SUCCEEDED,
                "gateway_payment_id": answer.gateway_payment_id or None,
                "updated_at": moment,
            }
        )
        owner = invoice["merchant_id"], invoice["customer_id"]
        events.record(*owner, EventType.INVOICE_PAID, _invoice_object(invoice, renewal.lines), moment)
    _update(session, Invoice, invoice_rows)
    _update(session, Payment, payment_rows)
    events.insert()
    lifecycle_mails.receipts_in_bulk(session, [renewal.invoice for renewal, _ in paid])
    return len(paid), outcomes


_PAID_COLUMNS = (
    "attempt_count",
    "status",
    "amount_paid",
    "amount_due",
    "paid_at",
    "next_payment_attempt",
    "last_payment_error",
)


class _Events:
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
        resource: ApiObject,
        at: datetime,
        *,
        previous: ApiObject | None = None,
    ) -> None:
        latest = self._latest.get(customer_id)
        if latest is not None and latest >= at:
            at = latest + timedelta(microseconds=1)
        self._latest[customer_id] = at
        self._rows.append(
            event_values(
                merchant_id=merchant_id,
                customer_id=customer_id,
                event_type=event_type,
                resource=resource,
                previous=previous,
                actor=SYSTEM,
                created_at=at,
            )
        )

    def insert(self) -> None:
        _insert(self._session, Event, self._rows)


# Core statements on the tables, executed for many rows at once: the ORM's bulk modes spend longer on each row.
_Model = type[Invoice] | type[InvoiceLine] | type[Payment] | type[Event] | type[Subscription]


def _insert(session: Session, model: _Model, rows: list[dict[str, Any]]) -> None:
    session.execute(insert(cast(Table, model.__table__)), rows)


def _update(session: Session, model: _Model, rows: list[dict[str, Any]]) -> None:
    """Each row's columns, set on the row whose id is its `b_id`."""
    table = cast(Table, model.__table__)
    session.execute(update(table).where(table.c.id == bindparam("b_id")), rows)
