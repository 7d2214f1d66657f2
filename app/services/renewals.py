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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database
from app.enums import ChargeStatus, EventType, InvoiceStatus, PaymentStatus, SubscriptionStatus
from app.gateways.base import ChargeRequest, GatewayPayment, GatewayUnavailable, PaymentGateway
from app.models import (
    Customer,
    Invoice,
    InvoiceLine,
    Merchant,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    new_ids,
)
from app.models.payments import Payment
from app.periods import add_interval
from app.services import lifecycle_mails
from app.services.charges import apply_payment_result
from app.services.events import SYSTEM
from app.services.renewal_rows import (
    CYCLE,
    Events,
    Renewal,
    insert_rows,
    mark_paid,
    move_periods,
    opened_invoice,
    paid_invoice,
    period_invoice_rows,
    processing_payment,
    renewed_subscription,
)
from app.views import ChargeOutcome

log = logging.getLogger(__name__)

__all__ = ["CYCLE", "RenewedBatch", "allocate_invoice_numbers", "renew_batch"]


@dataclass
class RenewedBatch:
    """What a batch came to; `left` are the subscriptions the per-subscription path still has to look at."""

    invoices_created: int = 0
    payments_succeeded: int = 0
    outcomes: list[ChargeOutcome] = field(default_factory=list)  # the answers that were not a plain success
    left: list[str] = field(default_factory=list)


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
    answers: list[tuple[Renewal, GatewayPayment]] = []
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
) -> tuple[list[Renewal], list[str]]:
    """Start the next period of each plain renewal, with its invoice, events and processing payment; returns them
    and the subscriptions left for the per-subscription path."""
    # The subscriptions are locked first (on SQLite: the database's write lock), as `load_subscription` does.
    table = cast(Table, Subscription.__table__)
    session.execute(update(table).where(table.c.id.in_(subscription_ids)).values(status=table.c.status))
    subscriptions = _load_subscriptions(session, subscription_ids)
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
    cards: dict[str, Any] = {}
    for card in session.execute(
        select(PaymentMethod.__table__).where(PaymentMethod.customer_id.in_(customer_ids), PaymentMethod.is_default)
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
    events = Events(session, paying, min(subscription.current_period_end for subscription in plain))
    renewals: list[Renewal] = []
    periods: dict[tuple[datetime, datetime], list[str]] = defaultdict(list)
    invoice_ids = iter(new_ids("in", len(plain)))
    line_ids = iter(new_ids("il", sum(len(subscription.items) for subscription in plain)))
    payment_ids = iter(new_ids("py", len(plain)))
    for subscription, number in zip(plain, numbers, strict=True):
        start = subscription.current_period_end
        price = subscription.items[0].price
        end = add_interval(start, price.interval, price.interval_count)
        periods[start, end].append(subscription.id)
        owner = subscription.merchant_id, subscription.customer_id
        updated = renewed_subscription(subscription, start, end)
        events.record(*owner, EventType.CUSTOMER_SUBSCRIPTION_UPDATED, subscription.id, updated, start)
        invoice, lines = period_invoice_rows(subscription, number, start, end, _ids(invoice_ids, line_ids))
        opened = opened_invoice(invoice, lines)
        events.record(*owner, EventType.INVOICE_CREATED, invoice["id"], {"object": opened}, start)
        card = cards[subscription.customer_id]
        payment_id = next(payment_ids)
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
        renewals.append(Renewal(subscription.id, invoice, lines, opened, payment_id, card.id, request))
    move_periods(session, periods)
    insert_rows(session, Invoice, [renewal.invoice for renewal in renewals])
    insert_rows(session, InvoiceLine, [line for renewal in renewals for line in renewal.lines])
    insert_rows(session, Payment, [processing_payment(renewal, gateway.name) for renewal in renewals])
    events.insert()
    return renewals, left


def _ids(invoice_ids: Iterator[str], line_ids: Iterator[str]) -> Iterator[str]:
    """An invoice's id, then as many line ids as it asks for."""
    yield next(invoice_ids)
    yield from line_ids


def _load_subscriptions(session: Session, subscription_ids: list[str]) -> list[SimpleNamespace]:
    """The subscriptions with their items, prices and products, as plain objects with the models' attribute names:
    read by Core in three statements (ORM objects cost several times as much to load for a batch that only reads
    them; the new periods are written by one statement per period)."""
    prices = {
        row["id"]: SimpleNamespace(**row, product=SimpleNamespace(name=row["product_name"]))
        for row in session.execute(
            select(Price.__table__, Product.name.label("product_name"))
            .join(Product, Product.id == Price.product_id)
            .where(
                Price.id.in_(
                    select(SubscriptionItem.price_id).where(SubscriptionItem.subscription_id.in_(subscription_ids))
                )
            )
        ).mappings()
    }
    items = defaultdict(list)
    # In the order the `items` relationship loads them (it has no order of its own): the lines follow it.
    for row in session.execute(
        select(SubscriptionItem.__table__).where(SubscriptionItem.subscription_id.in_(subscription_ids))
    ).mappings():
        items[row["subscription_id"]].append(SimpleNamespace(**row, price=prices[row["price_id"]]))
    return [
        SimpleNamespace(**row, items=items[row["id"]])
        for row in session.execute(
            select(Subscription.__table__).where(Subscription.id.in_(subscription_ids)).order_by(Subscription.id)
        ).mappings()
    ]


def _is_plain_renewal(subscription: Any, now: datetime, card: Any, gateway: str) -> bool:
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


def _invoice_numbers(session: Session, subscriptions: list[Any]) -> list[str]:
    """The next invoice number of each subscription's merchant, in the order of the subscriptions."""
    counts: dict[str, int] = defaultdict(int)
    for subscription in subscriptions:
        counts[subscription.merchant_id] += 1
    reserved = {
        merchant_id: iter(allocate_invoice_numbers(session, merchant_id, count))
        for merchant_id, count in sorted(counts.items())
    }
    return [next(reserved[subscription.merchant_id]) for subscription in subscriptions]


def _record_answers(
    session: Session, answers: list[tuple[Renewal, GatewayPayment]]
) -> tuple[int, list[tuple[str, ChargeOutcome]]]:
    """Record the gateway's answers: successes in bulk (`invoice.paid`), anything else as `apply_payment_result`
    records it. Returns how many were paid in bulk, and the other outcomes by subscription."""
    if not answers:
        return 0, []
    invoice_ids = [renewal.invoice["id"] for renewal, _ in answers]
    # Locked first, as `charges._locked_invoice` does: a webhook or Pay now on one of them waits, or went first.
    table = cast(Table, Invoice.__table__)
    session.execute(update(table).where(table.c.id.in_(invoice_ids)).values(attempt_count=table.c.attempt_count))
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
    paid: list[tuple[Renewal, GatewayPayment]] = []
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
    events = Events(
        session,
        {renewal.invoice["customer_id"] for renewal, _ in paid},
        min(renewal.invoice["created_at"] for renewal, _ in paid),
    )
    for renewal, _ in paid:
        invoice, row = renewal.invoice, invoices[renewal.invoice["id"]]
        moment = invoice["created_at"]
        # The columns `mark_paid` sets, for the receipts below.
        invoice.update(status=InvoiceStatus.PAID, amount_paid=row.amount_paid + row.amount_due, paid_at=moment)
        done = paid_invoice(
            renewal.opened, attempt_count=row.attempt_count + 1, amount_paid=invoice["amount_paid"], paid_at=moment
        )
        owner = invoice["merchant_id"], invoice["customer_id"]
        events.record(*owner, EventType.INVOICE_PAID, invoice["id"], {"object": done}, moment)
    mark_paid(
        session,
        [renewal.invoice["id"] for renewal, _ in paid],
        {renewal.payment_id: answer.gateway_payment_id or None for renewal, answer in paid},
    )
    events.insert()
    lifecycle_mails.receipts_in_bulk(session, [renewal.invoice for renewal, _ in paid])
    return len(paid), outcomes
