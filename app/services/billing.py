"""The billing clock: moves subscriptions through time (trial ends, renewals, payment retries, ends of cancelled ones).

`advance(now=...)` processes everything that fell due up to `now`, each subscription's steps in time order and each
step in its own transaction, so a crash loses nothing and a second run for the same moment changes nothing (the
invoice of a period is unique per subscription). A database lease keeps two processes from running it at once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.clock import Clock, system_clock
from app.db import Database
from app.enums import ChargeStatus, EventType, FailedPaymentAction, InvoiceStatus, SubscriptionStatus
from app.errors import ValidationFailed
from app.gateways.base import GatewayUnavailable, PaymentGateway
from app.models import (
    Invoice,
    InvoiceLine,
    PortalSettings,
    Price,
    Subscription,
)
from app.periods import add_interval
from app.services import lifecycle_mails
from app.services.api_objects import InvoiceObject, SubscriptionObject
from app.services.charges import (
    charge_invoice,
    end_subscription,
    load_subscription,
    record_at,
    record_subscription_change,
)
from app.services.discounts import apply_discount
from app.services.events import SYSTEM
from app.services.leases import acquire_lease, release_lease
from app.services.plan_changes import apply_scheduled_change, settle_credit
from app.services.renewals import CYCLE, allocate_invoice_numbers, renew_batch
from app.views import BillingRunResult, ChargeOutcome

log = logging.getLogger(__name__)

LEASE_NAME = "billing-clock"
LEASE_TTL = timedelta(minutes=5)
# Subscriptions read, and renewed in bulk, at a time: few enough that a batch's write transaction (which holds SQLite's
# write lock) stays short beside portal writes' 5 s busy timeout; enough that its dozen statements cost little each.
DUE_BATCH = 250
MAX_STEPS_PER_SUBSCRIPTION = 1000  # a guard against a bug looping forever, far above years of monthly periods


StepKind = Literal["trial_end", "period_end", "resume", "collect"]


@dataclass(frozen=True, slots=True)
class _Step:
    at: datetime
    kind: StepKind
    invoice_id: str | None = None


@dataclass
class _Tally:
    subscriptions_canceled: int = 0
    invoices_created: int = 0
    payments_succeeded: int = 0
    payments_failed: int = 0

    def count(self, outcome: ChargeOutcome) -> None:
        if outcome.status == ChargeStatus.PAID:
            self.payments_succeeded += 1
        elif outcome.status != ChargeStatus.PROCESSING:
            self.payments_failed += 1
            self.subscriptions_canceled += outcome.subscription_status == SubscriptionStatus.CANCELED


def advance(
    *, database: Database, now: datetime, gateway: PaymentGateway, clock: Clock = system_clock, holder: str = ""
) -> BillingRunResult:
    """Process everything due up to `now`; returns `skipped=True` when another run holds the lease.

    `now` is the billing moment (the CLI may move it forward); `clock` is the wall clock the lease expires by.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not acquire_lease(database=database, name=LEASE_NAME, holder=holder, now=clock(), ttl=LEASE_TTL):
        return BillingRunResult(skipped=True)
    tally = _Tally()
    try:
        for batch in _due_batches(database, now):
            acquire_lease(database=database, name=LEASE_NAME, holder=holder, now=clock(), ttl=LEASE_TTL)
            renewed = renew_batch(database=database, subscription_ids=batch, now=now, gateway=gateway)
            tally.invoices_created += renewed.invoices_created
            tally.payments_succeeded += renewed.payments_succeeded
            for outcome in renewed.outcomes:
                tally.count(outcome)
            for index, subscription_id in enumerate(renewed.left):
                if index and index % 50 == 0:
                    acquire_lease(database=database, name=LEASE_NAME, holder=holder, now=clock(), ttl=LEASE_TTL)
                _advance_subscription(database, subscription_id, now, gateway, tally)
        with database.transaction() as session:  # after the renewals: a renewed period gets its own reminder
            lifecycle_mails.send_reminders(session, now)
    finally:
        release_lease(database=database, name=LEASE_NAME, holder=holder, now=clock())
    return BillingRunResult(
        subscriptions_canceled=tally.subscriptions_canceled,
        invoices_created=tally.invoices_created,
        payments_succeeded=tally.payments_succeeded,
        payments_failed=tally.payments_failed,
    )


def _due_batches(database: Database, now: datetime) -> Iterator[list[str]]:
    """The subscriptions with something due, in id order, DUE_BATCH at a time: memory stays the same however many
    fall due at once, and one processed is never read again (the next batch starts after it)."""
    after = ""
    while True:
        with database.transaction() as session:
            period_ends = select(Subscription.id).where(
                Subscription.status.in_(SubscriptionStatus.on_the_clock()), Subscription.current_period_end <= now
            )
            trial_ends = select(Subscription.id).where(
                Subscription.status == SubscriptionStatus.TRIALING, Subscription.trial_end <= now
            )
            retries = (
                select(Invoice.subscription_id)
                .join(Subscription, Subscription.id == Invoice.subscription_id)
                .where(
                    Invoice.status == InvoiceStatus.OPEN,
                    Invoice.next_payment_attempt <= now,
                    Subscription.status.in_(SubscriptionStatus.on_the_clock()),
                )
            )
            resumes = select(Subscription.id).where(
                Subscription.status == SubscriptionStatus.PAUSED, Subscription.pause_resumes_at <= now
            )
            ids: set[str] = set()
            for query, key in (
                (period_ends, Subscription.id),
                # The rare kinds are found by the index of their due time. SQLite keeps no statistics: given
                # `id > :after ORDER BY id`, it walks the primary key through every later subscription looking for
                # them, a scan of the table for each batch (100,000 due at once: 400 batches, 3 scans each). Keyed
                # by `id || ''`, which no index holds, it reads the few rows due and sorts them.
                (trial_ends, Subscription.id + ""),
                (retries, Invoice.subscription_id + ""),
                (resumes, Subscription.id + ""),
            ):
                ids.update(session.scalars(query.where(key > after).order_by(key).limit(DUE_BATCH)))
        batch = sorted(i for i in ids if i)[:DUE_BATCH]
        if not batch:
            return
        yield batch
        after = batch[-1]


def _advance_subscription(
    database: Database, subscription_id: str, now: datetime, gateway: PaymentGateway, tally: _Tally
) -> None:
    for _ in range(MAX_STEPS_PER_SUBSCRIPTION):
        with database.transaction() as session:
            subscription = load_subscription(session, subscription_id)
            step = _next_step(session, subscription, now)
            if step is None:
                return
            if step.kind != "collect":
                try:
                    with session.begin_nested():
                        _apply_period_step(session, subscription, step, tally)
                except IntegrityError:
                    # The period's invoice exists already: another run got here first and will carry on.
                    log.warning("Subscription %s was advanced by another run", subscription_id)
                    return
                continue
        assert step.invoice_id is not None  # noqa: S101 - collect steps always name their invoice
        try:
            outcome = charge_invoice(
                database=database,
                invoice_id=step.invoice_id,
                gateway=gateway,
                off_session=True,
                actor=SYSTEM,
                now=step.at,
            )
        except GatewayUnavailable:  # the attempt stays due: the next run asks again, with the same idempotency key
            log.warning("Payment gateway unavailable; invoice %s is charged on the next run", step.invoice_id)
            return
        tally.count(outcome)
        if outcome.status == ChargeStatus.PROCESSING:
            return  # the gateway's webhook settles it; asking again now would only get "processing" again
    log.error("Subscription %s still had due steps after %d steps", subscription_id, MAX_STEPS_PER_SUBSCRIPTION)


def _next_step(session: Session, subscription: Subscription, now: datetime) -> _Step | None:
    """The earliest thing due for this subscription at or before `now`; nothing once it has ended."""
    resumes_at = subscription.pause_resumes_at
    if subscription.status == SubscriptionStatus.PAUSED:
        return _Step(resumes_at, "resume") if resumes_at is not None and resumes_at <= now else None
    if subscription.status not in SubscriptionStatus.on_the_clock():
        return None
    steps: list[_Step] = []
    trial_end = subscription.trial_end
    if subscription.status == SubscriptionStatus.TRIALING and trial_end is not None:
        if trial_end <= now:
            steps.append(_Step(trial_end, "trial_end"))
    elif subscription.current_period_end <= now:
        steps.append(_Step(subscription.current_period_end, "period_end"))
    retry = session.execute(
        select(Invoice.id, Invoice.next_payment_attempt)
        .where(
            Invoice.subscription_id == subscription.id,
            Invoice.status == InvoiceStatus.OPEN,
            Invoice.next_payment_attempt <= now,
        )
        .order_by(Invoice.next_payment_attempt)
        .limit(1)
    ).first()
    if retry is not None:
        steps.append(_Step(retry.next_payment_attempt, "collect", retry.id))
    # At the same moment, collect what is owed before ending or renewing the period.
    return min(steps, key=lambda step: (step.at, step.kind != "collect"), default=None)


def _apply_period_step(session: Session, subscription: Subscription, step: _Step, tally: _Tally) -> None:
    if subscription.cancel_at_period_end:
        end_subscription(session, subscription, step.at)
        tally.subscriptions_canceled += 1
        return
    before = SubscriptionObject.from_row(subscription)
    if step.kind == "period_end" and apply_scheduled_change(subscription):  # a downgrade chosen for this moment
        before = record_subscription_change(session, subscription, before, step.at)
    if step.kind == "period_end" and subscription.pause_starts_at is not None:
        # The chosen pause begins: no invoice until it ends (the period dates keep the last paid period).
        subscription.status = SubscriptionStatus.PAUSED
        paused = SubscriptionObject.from_row(subscription)
        record_at(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_PAUSED, paused, step.at)
        return
    if step.kind == "resume":
        before = _resume(session, subscription, step.at)
    elif step.kind == "trial_end":
        subscription.status = SubscriptionStatus.ACTIVE
    start_period(session, subscription, step.at, before=before)
    tally.invoices_created += 1


def _resume(session: Session, subscription: Subscription, moment: datetime) -> SubscriptionObject:
    """End a paused subscription's pause (recorded as `customer.subscription.resumed`); returns it as resumed, for
    the period that starts next."""
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.pause_starts_at = subscription.pause_resumes_at = None
    resumed = SubscriptionObject.from_row(subscription)
    record_at(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_RESUMED, resumed, moment)
    return resumed


def start_period(
    session: Session, subscription: Subscription, start: datetime, *, before: SubscriptionObject
) -> Invoice:
    """Start a billing period of the subscription's price at `start` and issue its invoice, to be collected now
    (or, for an unpaid subscription, to wait for the customer). `before` is the subscription before this step: its
    `customer.subscription.updated` event says what changed since."""
    price = subscription.items[0].price
    end = add_interval(start, price.interval, price.interval_count)
    subscription.current_period_start = start
    subscription.current_period_end = end
    record_subscription_change(session, subscription, before, start)
    invoice = _create_invoice(session, subscription, start, end)
    # An unpaid subscription keeps getting invoices, but they wait for the customer instead of being charged.
    invoice.next_payment_attempt = None if subscription.status == SubscriptionStatus.UNPAID else start
    session.flush()
    record_at(session, subscription, EventType.INVOICE_CREATED, InvoiceObject.from_row(invoice), start)
    return invoice


def allocate_invoice_number(session: Session, merchant_id: str) -> str:
    """The merchant's next invoice number (`ACME-00042`), reserved atomically."""
    return allocate_invoice_numbers(session, merchant_id, 1)[0]


def plan_name(price: Price) -> str:
    return price.nickname or price.product.name


def period_invoice(
    session: Session, subscription: Subscription, start: datetime, end: datetime, *, billing_reason: str, now: datetime
) -> Invoice:
    """An open invoice, due `now`, with a line per item of the subscription for the period from `start` to `end`."""
    invoice = Invoice(
        merchant_id=subscription.merchant_id,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        number=allocate_invoice_number(session, subscription.merchant_id),
        status=InvoiceStatus.OPEN,
        billing_reason=billing_reason,
        currency=subscription.items[0].price.currency,
        period_start=start,
        period_end=end,
        created_at=now,
        due_at=now,
    )
    for position, item in enumerate(subscription.items):
        invoice.lines.append(
            InvoiceLine(
                position=position,
                description=f"{item.quantity} × {plan_name(item.price)}",
                quantity=item.quantity,
                unit_amount=item.price.unit_amount,
                amount=item.price.unit_amount * item.quantity,
                price_id=item.price.id,
                period_start=start,
                period_end=end,
            )
        )
    invoice.subtotal = invoice.total = invoice.amount_due = sum(line.amount for line in invoice.lines)
    return invoice


def _create_invoice(session: Session, subscription: Subscription, start: datetime, end: datetime) -> Invoice:
    """An open invoice for the items of the new period, plus proration lines waiting on draft invoices."""
    invoice = period_invoice(session, subscription, start, end, billing_reason=CYCLE, now=start)
    drafts = session.scalars(
        select(Invoice)
        .where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.DRAFT)
        .options(selectinload(Invoice.lines))
    ).all()
    for draft in drafts:
        for line in list(draft.lines):
            draft.lines.remove(line)
            invoice.lines.append(line)
        session.delete(draft)
    apply_discount(subscription, invoice)
    settle_credit(session, invoice)  # after the discount: credit pays what remains
    for position, line in enumerate(invoice.lines):
        line.position = position
    total = sum(line.amount for line in invoice.lines)
    invoice.subtotal = invoice.total = invoice.amount_due = max(total, 0)
    session.add(invoice)
    return invoice


FAILED_PAYMENT_ACTIONS = {
    FailedPaymentAction.MARK_UNPAID.value: "Mark the subscription as unpaid",
    FailedPaymentAction.CANCEL.value: "Cancel the subscription",
}


def get_failed_payment_action(*, session: Session, merchant_id: str) -> str:
    """What happens after the last retry of a failed renewal payment (a FailedPaymentAction value)."""
    return session.get_one(PortalSettings, merchant_id).failed_payment_action.value


def set_failed_payment_action(*, session: Session, merchant_id: str, action: str) -> str:
    if action not in FAILED_PAYMENT_ACTIONS:
        raise ValidationFailed({"failed_payment_action": "Choose what happens after the last retry."})
    session.get_one(PortalSettings, merchant_id).failed_payment_action = FailedPaymentAction(action)
    return action
