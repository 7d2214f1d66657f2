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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from app.clock import Clock, system_clock
from app.db import Database
from app.enums import EventType, FailedPaymentAction, InvoiceStatus, SubscriptionStatus
from app.errors import ValidationFailed
from app.models import (
    Event,
    Invoice,
    InvoiceLine,
    Merchant,
    PaymentMethod,
    PortalSettings,
    Subscription,
    SubscriptionItem,
)
from app.periods import add_interval
from app.services.api_objects import ApiObject, InvoiceObject, SubscriptionObject
from app.services.events import SYSTEM, record_event
from app.services.leases import acquire_lease, release_lease
from app.services.plan_changes import apply_scheduled_change
from app.views import BillingRunResult

log = logging.getLogger(__name__)

LEASE_NAME = "billing-clock"
LEASE_TTL = timedelta(minutes=5)
# A failed charge is retried this long after the previous attempt; after the last retry fails the merchant's
# `failed_payment_action` applies.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=5))
CYCLE = "subscription_cycle"
MAX_STEPS_PER_SUBSCRIPTION = 1000  # a guard against a bug looping forever, far above years of monthly periods


@dataclass(frozen=True, slots=True)
class CardOnFile:
    """What is stored about a card, which is all a renewal charge can go by."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class ChargeResult:
    succeeded: bool
    failure_message: str = ""


class PaymentGateway(Protocol):
    def charge_card_on_file(
        self, *, card: CardOnFile, amount_minor: int, currency: str, idempotency_key: str, now: datetime
    ) -> ChargeResult:
        """Charge a stored card; the same `idempotency_key` must never charge twice."""
        ...


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
        for index, subscription_id in enumerate(_due_subscription_ids(database, now)):
            if index and index % 50 == 0:
                acquire_lease(database=database, name=LEASE_NAME, holder=holder, now=clock(), ttl=LEASE_TTL)
            _advance_subscription(database, subscription_id, now, gateway, tally)
    finally:
        release_lease(database=database, name=LEASE_NAME, holder=holder, now=clock())
    return BillingRunResult(
        subscriptions_canceled=tally.subscriptions_canceled,
        invoices_created=tally.invoices_created,
        payments_succeeded=tally.payments_succeeded,
        payments_failed=tally.payments_failed,
    )


def _due_subscription_ids(database: Database, now: datetime) -> list[str]:
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
        ids = {*session.scalars(period_ends), *session.scalars(trial_ends), *session.scalars(retries)}
        ids.update(session.scalars(resumes))
    return sorted(i for i in ids if i)


def _advance_subscription(
    database: Database, subscription_id: str, now: datetime, gateway: PaymentGateway, tally: _Tally
) -> None:
    for _ in range(MAX_STEPS_PER_SUBSCRIPTION):
        with database.transaction() as session:
            subscription = _load(session, subscription_id)
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
        _collect(database, step.invoice_id, step.at, gateway, tally)
    log.error("Subscription %s still had due steps after %d steps", subscription_id, MAX_STEPS_PER_SUBSCRIPTION)


def _load(session: Session, subscription_id: str) -> Subscription:
    query = (
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price))
        .with_for_update()
    )
    return session.scalars(query).one()


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
        _end_subscription(session, subscription, step.at)
        tally.subscriptions_canceled += 1
        return
    before = SubscriptionObject.from_row(subscription)
    if step.kind == "period_end" and apply_scheduled_change(subscription):  # a downgrade chosen for this moment
        before = _record_subscription_update(session, subscription, before, step.at)
    if step.kind == "period_end" and subscription.pause_starts_at is not None:
        # The chosen pause begins: no invoice until it ends (the period dates keep the last paid period).
        subscription.status = SubscriptionStatus.PAUSED
        paused = SubscriptionObject.from_row(subscription)
        _record(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_PAUSED, paused, step.at)
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
    _record(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_RESUMED, resumed, moment)
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
    _record_subscription_update(session, subscription, before, start)
    invoice = _create_invoice(session, subscription, start, end)
    # An unpaid subscription keeps getting invoices, but they wait for the customer instead of being charged.
    invoice.next_payment_attempt = None if subscription.status == SubscriptionStatus.UNPAID else start
    session.flush()
    _record(session, subscription, EventType.INVOICE_CREATED, InvoiceObject.from_row(invoice), start)
    return invoice


def _end_subscription(session: Session, subscription: Subscription, moment: datetime) -> None:
    subscription.status = SubscriptionStatus.CANCELED
    subscription.canceled_at = subscription.canceled_at or moment
    subscription.ended_at = moment
    subscription.cancel_at_period_end = False
    # Nothing is charged for a subscription that has ended; its open invoices stay payable by the customer.
    session.execute(
        update(Invoice)
        .where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
        .values(next_payment_attempt=None)
    )
    ended = SubscriptionObject.from_row(subscription)
    _record(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_DELETED, ended, moment)


def allocate_invoice_number(session: Session, merchant_id: str) -> str:
    """The merchant's next invoice number (`ACME-00042`), reserved atomically."""
    prefix, number = session.execute(
        update(Merchant)
        .where(Merchant.id == merchant_id)
        .values(next_invoice_number=Merchant.next_invoice_number + 1)
        .returning(Merchant.invoice_prefix, Merchant.next_invoice_number)
    ).one()
    return f"{prefix}-{number - 1:05d}"


def _create_invoice(session: Session, subscription: Subscription, start: datetime, end: datetime) -> Invoice:
    """An open invoice for the items of the new period, plus proration lines waiting on draft invoices."""
    currency = subscription.items[0].price.currency
    invoice = Invoice(
        merchant_id=subscription.merchant_id,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        number=allocate_invoice_number(session, subscription.merchant_id),
        status=InvoiceStatus.OPEN,
        billing_reason=CYCLE,
        currency=currency,
        period_start=start,
        period_end=end,
        created_at=start,
        due_at=start,
    )
    for item in subscription.items:
        price = item.price
        invoice.lines.append(
            InvoiceLine(
                description=f"{item.quantity} × {price.nickname or price.product.name}",
                quantity=item.quantity,
                unit_amount=price.unit_amount,
                amount=price.unit_amount * item.quantity,
                price_id=price.id,
                period_start=start,
                period_end=end,
            )
        )
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
    for position, line in enumerate(invoice.lines):
        line.position = position
    total = sum(line.amount for line in invoice.lines)
    invoice.subtotal = invoice.total = invoice.amount_due = max(total, 0)
    session.add(invoice)
    return invoice


@dataclass(frozen=True, slots=True)
class _ChargeRequest:
    attempt_count: int
    amount_due: int
    currency: str
    card: CardOnFile | None


def _collect(database: Database, invoice_id: str, moment: datetime, gateway: PaymentGateway, tally: _Tally) -> None:
    """Charge an open invoice's default card outside any transaction, then record the outcome if still current."""
    with database.transaction() as session:
        invoice = session.get_one(Invoice, invoice_id)
        card = session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == invoice.customer_id, PaymentMethod.is_default)
        ).first()
        request = _ChargeRequest(
            attempt_count=invoice.attempt_count,
            amount_due=invoice.amount_due,
            currency=invoice.currency,
            card=None if card is None else CardOnFile(card.id, card.brand, card.last4, card.exp_month, card.exp_year),
        )
    if request.amount_due == 0:
        result = ChargeResult(succeeded=True)
    elif request.card is None:
        result = ChargeResult(succeeded=False, failure_message="No payment method on file.")
    else:
        result = gateway.charge_card_on_file(
            card=request.card,
            amount_minor=request.amount_due,
            currency=request.currency,
            idempotency_key=f"{invoice_id}:{request.attempt_count + 1}",
            now=moment,
        )
    with database.transaction() as session:
        # The lines come in the same statement: the invoice's events carry them.
        invoice = (
            session.scalars(
                select(Invoice)
                .where(Invoice.id == invoice_id)
                .options(joinedload(Invoice.lines))
                .with_for_update(of=Invoice)
            )
            .unique()
            .one()
        )
        if invoice.status != InvoiceStatus.OPEN or invoice.attempt_count != request.attempt_count:
            return  # paid in the portal or recorded by another run meanwhile
        subscription = _load(session, invoice.subscription_id or "")
        invoice.attempt_count += 1
        if result.succeeded:
            _mark_paid(session, subscription, invoice, moment)
            tally.payments_succeeded += 1
        else:
            _mark_failed(session, subscription, invoice, moment, result.failure_message)
            tally.payments_failed += 1
            if subscription.status == SubscriptionStatus.CANCELED:
                tally.subscriptions_canceled += 1


def _mark_paid(session: Session, subscription: Subscription, invoice: Invoice, moment: datetime) -> None:
    invoice.status = InvoiceStatus.PAID
    invoice.amount_paid = invoice.amount_due
    invoice.amount_due = 0
    invoice.paid_at = moment
    invoice.next_payment_attempt = None
    invoice.last_payment_error = ""
    session.flush()
    _record(session, subscription, EventType.INVOICE_PAID, InvoiceObject.from_row(invoice), moment)
    still_open = session.scalar(
        select(Invoice.id).where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
    )
    if subscription.status in SubscriptionStatus.delinquent() and still_open is None:
        before = SubscriptionObject.from_row(subscription)
        subscription.status = SubscriptionStatus.ACTIVE
        _record_subscription_update(session, subscription, before, moment)


def _mark_failed(
    session: Session, subscription: Subscription, invoice: Invoice, moment: datetime, failure_message: str
) -> None:
    retries_used = invoice.attempt_count - 1
    final = retries_used >= len(RETRY_DELAYS)
    invoice.next_payment_attempt = None if final else moment + RETRY_DELAYS[retries_used]
    invoice.last_payment_error = failure_message
    session.flush()
    _record(session, subscription, EventType.INVOICE_PAYMENT_FAILED, InvoiceObject.from_row(invoice), moment)
    if final:
        action = session.scalar(
            select(PortalSettings.failed_payment_action).where(PortalSettings.merchant_id == subscription.merchant_id)
        )
        if action == FailedPaymentAction.CANCEL:
            _end_subscription(session, subscription, moment)
            return
        new_status = SubscriptionStatus.UNPAID
    else:
        new_status = SubscriptionStatus.PAST_DUE
    if subscription.status != new_status and subscription.status != SubscriptionStatus.UNPAID:
        before = SubscriptionObject.from_row(subscription)
        subscription.status = new_status
        _record_subscription_update(session, subscription, before, moment)


def _record_subscription_update(
    session: Session, subscription: Subscription, before: SubscriptionObject, at: datetime
) -> SubscriptionObject:
    """Record what changed since `before`; returns the subscription as it is now."""
    after = SubscriptionObject.from_row(subscription)
    _record(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_UPDATED, after, at, previous=before)
    return after


def _record(
    session: Session,
    subscription: Subscription,
    event_type: EventType,
    resource: ApiObject,
    at: datetime,
    *,
    previous: ApiObject | None = None,
) -> None:
    """Record an event at the step's moment, a microsecond after the customer's latest so the trail keeps its order."""
    latest = session.scalar(
        select(func.max(Event.created_at)).where(Event.customer_id == subscription.customer_id, Event.created_at >= at)
    )
    if latest is not None:
        at = latest + timedelta(microseconds=1)
    record_event(
        session=session,
        merchant_id=subscription.merchant_id,
        customer_id=subscription.customer_id,
        event_type=event_type,
        resource=resource,
        previous=previous,
        actor=SYSTEM,
        clock=lambda: at,
    )


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
