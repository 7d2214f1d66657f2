"""Charging invoices: the one way an invoice is charged, what a payment's outcome does, and dunning.

Used by the billing clock (renewals, off-session), Pay now and Confirm payment in the portal (on-session) and the
gateway's webhooks. Also how the clock and charges record their events (at the step's moment, in order).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from app.db import Database
from app.enums import (
    ChargeStatus,
    EventType,
    FailedPaymentAction,
    InvoiceStatus,
    PaymentStatus,
    SubscriptionStatus,
)
from app.errors import ValidationFailed
from app.gateways.base import DECLINED, ChargeRequest, GatewayPayment, PaymentGateway
from app.i18n import N_
from app.models import (
    Customer,
    Event,
    Invoice,
    Payment,
    PaymentMethod,
    PortalSettings,
    Subscription,
    SubscriptionItem,
)
from app.services import lifecycle_mails
from app.services.api_objects import ApiObject, InvoiceObject, SubscriptionObject
from app.services.events import SYSTEM, Actor, record_event
from app.services.resource_views import invoice_view
from app.views import ChargeOutcome

log = logging.getLogger(__name__)

# A failed charge is retried this long after the previous attempt; after the last retry fails the merchant's
# `failed_payment_action` applies.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=5))


# --- Charging an invoice: the billing clock (off-session), Pay now in the portal (on-session) and the API ---------


NO_CARD = N_("Add a card before paying.")
NO_CARD_ON_FILE = N_("No payment method on file.")
OTHER_GATEWAY = N_("This card was saved with another payment processor. Add it again.")
NOT_PAYABLE = N_("This invoice is not open for payment.")


@dataclass(frozen=True, slots=True)
class _PreparedCharge:
    payment_id: str
    request: ChargeRequest
    superseded: tuple[str, ...]  # payment intents still waiting for authentication, cancelled by this attempt


def charge_invoice(
    *, database: Database, invoice_id: str, gateway: PaymentGateway, off_session: bool, actor: Actor, now: datetime
) -> ChargeOutcome:
    """Charge an open invoice's amount due to the customer's default card, and record what came of it.

    The one way an invoice is charged: the billing clock (`off_session=True`: a failure or a needed authentication
    counts as a collection attempt and schedules the next retry), Pay now in the portal and the API (on-session:
    a failure is recorded, the invoice stays open). The result is paid, failed (with a message for the customer),
    requires_action (the customer confirms the payment in the portal; `authentication` has what the browser needs)
    or processing (the gateway decides later; its webhook settles it).

    The attempt is written (a `Payment`) before the gateway is asked, outside any transaction, with the attempt's id
    as idempotency key: when recording the answer fails, the next attempt asks again with the same key and is
    answered without a second charge. On-session without a card raises ValidationFailed; GatewayUnavailable when the
    gateway could not be asked (nothing recorded; trying again is safe).
    """
    with database.transaction() as session:
        prepared = _prepare_charge(session, invoice_id, gateway, off_session, actor, now)
    if isinstance(prepared, ChargeOutcome):
        return prepared
    for payment_intent in prepared.superseded:
        gateway.cancel_payment(gateway_payment_id=payment_intent)
    result = gateway.charge(prepared.request)
    with database.transaction() as session:
        return apply_payment_result(
            session=session, payment_id=prepared.payment_id, result=result, actor=actor, now=now
        )


def _prepare_charge(
    session: Session, invoice_id: str, gateway: PaymentGateway, off_session: bool, actor: Actor, now: datetime
) -> _PreparedCharge | ChargeOutcome:
    invoice = _locked_invoice(session, invoice_id)
    if invoice.status != InvoiceStatus.OPEN:
        status = ChargeStatus.PAID if invoice.status == InvoiceStatus.PAID else ChargeStatus.FAILED
        return _outcome(session, invoice, status, "" if status == ChargeStatus.PAID else NOT_PAYABLE)
    if invoice.amount_due == 0:
        if off_session:
            invoice.attempt_count += 1
        _mark_paid(session, invoice, now, actor)
        return _outcome(session, invoice, ChargeStatus.PAID)
    card = session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id == invoice.customer_id, PaymentMethod.is_default)
    ).first()
    if card is None and not off_session:
        raise ValidationFailed({"payment_method": NO_CARD})
    if card is None or card.gateway != gateway.name:
        message = NO_CARD_ON_FILE if card is None else OTHER_GATEWAY
        _record_failure(session, invoice, message, off_session, actor, now)
        return _outcome(session, invoice, ChargeStatus.FAILED, message)
    customer = session.get_one(Customer, invoice.customer_id)
    unfinished = session.scalars(
        select(Payment).where(
            Payment.invoice_id == invoice.id,
            Payment.status.in_((PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION)),
        )
    ).all()
    superseded = []
    # An attempt whose answer was never recorded is asked again with its own key: answered, not charged twice.
    payment = next(
        (
            attempt
            for attempt in unfinished
            if attempt.status == PaymentStatus.PROCESSING and attempt.payment_method_id == card.id
        ),
        None,
    )
    for waiting in unfinished:
        if waiting is not payment and waiting.status == PaymentStatus.REQUIRES_ACTION:
            waiting.status, waiting.updated_at = PaymentStatus.CANCELED, now
            if waiting.gateway_payment_id and waiting.gateway == gateway.name:
                superseded.append(waiting.gateway_payment_id)
    if payment is None:
        payment = Payment(
            merchant_id=invoice.merchant_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            payment_method_id=card.id,
            gateway=gateway.name,
            amount=invoice.amount_due,
            currency=invoice.currency,
            off_session=off_session,
            status=PaymentStatus.PROCESSING,
            created_at=now,
            updated_at=now,
        )
        session.add(payment)
        session.flush()
    request = ChargeRequest(
        customer_reference=customer.gateway_customer_id if customer.gateway == gateway.name else "",
        payment_method_id=card.gateway_payment_method_id,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        amount_minor=payment.amount,
        currency=payment.currency,
        idempotency_key=payment.id,
        off_session=payment.off_session,
        metadata={"invoice": invoice.id, "invoice_number": invoice.number, "payment": payment.id},
        now=now,
    )
    return _PreparedCharge(payment_id=payment.id, request=request, superseded=tuple(superseded))


def _locked_invoice(session: Session, invoice_id: str) -> Invoice:
    """The invoice, locked before anything about its payments is read: a row lock on PostgreSQL, and on SQLite
    (where a transaction begins at its first write) the database's write lock, taken by a write that changes nothing.
    Two tabs, the clock and a webhook acting on one invoice so take turns, invoice first, then its payments."""
    session.execute(update(Invoice).where(Invoice.id == invoice_id).values(attempt_count=Invoice.attempt_count))
    # The lines come in the same statement: the invoice's events carry them.
    query = select(Invoice).where(Invoice.id == invoice_id).options(joinedload(Invoice.lines))
    return session.scalars(query.with_for_update(of=Invoice)).unique().one()


def apply_payment_result(
    *, session: Session, payment_id: str, result: GatewayPayment, actor: Actor, now: datetime
) -> ChargeOutcome:
    """Record what the gateway said about a payment: from the charge itself, the browser's confirmation or a webhook.

    Idempotent: a payment already settled (succeeded, failed, cancelled) stays as it is, so the charge's answer and
    the gateway's webhook for it can arrive in either order, and twice.
    """
    invoice = _locked_invoice(
        session, session.scalars(select(Payment.invoice_id).where(Payment.id == payment_id)).one()
    )
    payment = session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()).one()
    payment.gateway_payment_id = payment.gateway_payment_id or result.gateway_payment_id or None
    unchanged = payment.status.is_final or (
        payment.status == PaymentStatus.REQUIRES_ACTION and result.state in ("requires_action", "processing")
    )
    if unchanged or result.state == "processing":
        session.flush()
        return _payment_outcome(session, invoice, payment)
    payment.updated_at = now
    if result.state == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        if invoice.status == InvoiceStatus.OPEN:
            if payment.off_session:
                invoice.attempt_count += 1
            _mark_paid(session, invoice, now, actor)
        return _payment_outcome(session, invoice, payment)
    if result.state == "requires_action":
        payment.status = PaymentStatus.REQUIRES_ACTION
        _record_failure(
            session, invoice, "", payment.off_session, actor, now, event=EventType.INVOICE_PAYMENT_ACTION_REQUIRED
        )
    else:
        payment.status = PaymentStatus.FAILED if result.state == "failed" else PaymentStatus.CANCELED
        payment.failure_message = (result.failure_message or DECLINED)[:200]
        _record_failure(session, invoice, payment.failure_message, payment.off_session, actor, now)
    return _payment_outcome(session, invoice, payment)


def current_outcome(session: Session, invoice: Invoice) -> ChargeOutcome:
    """Where an invoice stands, as its latest charge left it."""
    latest = session.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.created_at.desc(), Payment.id)
    ).first()
    if latest is not None:
        return _payment_outcome(session, invoice, latest)
    return _outcome(
        session, invoice, ChargeStatus.PAID if invoice.status == InvoiceStatus.PAID else ChargeStatus.FAILED
    )


def _payment_outcome(session: Session, invoice: Invoice, payment: Payment) -> ChargeOutcome:
    if payment.status == PaymentStatus.SUCCEEDED or invoice.status == InvoiceStatus.PAID:
        return _outcome(session, invoice, ChargeStatus.PAID, payment_id=payment.id)
    status = {
        PaymentStatus.PROCESSING: ChargeStatus.PROCESSING,
        PaymentStatus.REQUIRES_ACTION: ChargeStatus.REQUIRES_ACTION,
    }.get(payment.status, ChargeStatus.FAILED)
    return _outcome(session, invoice, status, payment.failure_message, payment_id=payment.id)


def _outcome(
    session: Session, invoice: Invoice, status: ChargeStatus, failure_message: str = "", payment_id: str | None = None
) -> ChargeOutcome:
    session.flush()
    subscription_status = (
        session.scalar(select(Subscription.status).where(Subscription.id == invoice.subscription_id))
        if invoice.subscription_id
        else None
    )
    return ChargeOutcome(
        status=status,
        invoice=invoice_view(invoice, with_lines=True, requires_action=status == ChargeStatus.REQUIRES_ACTION),
        failure_message=failure_message,
        payment_id=payment_id,
        subscription_status=subscription_status,
    )


def _mark_paid(session: Session, invoice: Invoice, moment: datetime, actor: Actor) -> None:
    invoice.status = InvoiceStatus.PAID
    invoice.amount_paid += invoice.amount_due
    invoice.amount_due = 0
    invoice.paid_at = moment
    invoice.next_payment_attempt = None
    invoice.last_payment_error = ""
    session.flush()
    record_at(session, invoice, EventType.INVOICE_PAID, InvoiceObject.from_row(invoice), moment, actor=actor)
    lifecycle_mails.invoice_paid(session, invoice, moment)
    if invoice.subscription_id is None:
        return
    subscription = load_subscription(session, invoice.subscription_id)
    still_open = session.scalar(
        select(Invoice.id).where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
    )
    # Paid up: a delinquent subscription recovers, and a new one whose first invoice this was (incomplete) starts.
    recovers = (*SubscriptionStatus.delinquent(), SubscriptionStatus.INCOMPLETE)
    if subscription.status in recovers and still_open is None:
        before = SubscriptionObject.from_row(subscription)
        subscription.status = SubscriptionStatus.ACTIVE
        record_subscription_change(session, subscription, before, moment, actor=actor)


def _record_failure(
    session: Session,
    invoice: Invoice,
    failure_message: str,
    off_session: bool,
    actor: Actor,
    moment: datetime,
    *,
    event: EventType = EventType.INVOICE_PAYMENT_FAILED,
) -> None:
    """A failed (or authentication-needing) attempt: recorded; automatic ones also move the dunning schedule on."""
    final = False
    if off_session:
        invoice.attempt_count += 1
        retries_used = invoice.attempt_count - 1
        final = retries_used >= len(RETRY_DELAYS)
        invoice.next_payment_attempt = None if final else moment + RETRY_DELAYS[retries_used]
    invoice.last_payment_error = failure_message
    session.flush()
    record_at(session, invoice, event, InvoiceObject.from_row(invoice), moment, actor=actor)
    if off_session:  # the customer is not there to see it: tell them by mail (on-session, the portal says it)
        if event == EventType.INVOICE_PAYMENT_ACTION_REQUIRED:
            lifecycle_mails.action_required(session, invoice, moment)
        else:
            lifecycle_mails.payment_failed(session, invoice, moment)
    if off_session and invoice.subscription_id is not None:
        _dun(session, load_subscription(session, invoice.subscription_id), final, moment)


def _dun(session: Session, subscription: Subscription, final: bool, moment: datetime) -> None:
    """A renewal payment failed: past due until the last retry, then the merchant's `failed_payment_action`."""
    if final:
        action = session.scalar(
            select(PortalSettings.failed_payment_action).where(PortalSettings.merchant_id == subscription.merchant_id)
        )
        if action == FailedPaymentAction.CANCEL:
            end_subscription(session, subscription, moment)
            return
        new_status = SubscriptionStatus.UNPAID
    else:
        new_status = SubscriptionStatus.PAST_DUE
    if subscription.status != new_status and subscription.status != SubscriptionStatus.UNPAID:
        before = SubscriptionObject.from_row(subscription)
        subscription.status = new_status
        record_subscription_change(session, subscription, before, moment)


def load_subscription(session: Session, subscription_id: str) -> Subscription:
    query = (
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price))
        .with_for_update()
    )
    return session.scalars(query).one()


def end_subscription(session: Session, subscription: Subscription, moment: datetime, *, actor: Actor = SYSTEM) -> None:
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
    record_at(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_DELETED, ended, moment, actor=actor)
    lifecycle_mails.subscription_canceled(session, subscription, moment, ended=True)


def record_subscription_change(
    session: Session, subscription: Subscription, before: SubscriptionObject, at: datetime, *, actor: Actor = SYSTEM
) -> SubscriptionObject:
    """Record `customer.subscription.updated`: what changed since `before`; returns the subscription as it is now."""
    after = SubscriptionObject.from_row(subscription)
    record_at(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_UPDATED, after, at, actor=actor, previous=before)
    return after


def record_at(
    session: Session,
    owner: Subscription | Invoice,
    event_type: EventType,
    resource: ApiObject,
    at: datetime,
    *,
    actor: Actor = SYSTEM,
    previous: ApiObject | None = None,
) -> None:
    """Record an event at the step's moment, a microsecond after the customer's latest so the trail keeps its order."""
    latest = session.scalar(
        select(func.max(Event.created_at)).where(Event.customer_id == owner.customer_id, Event.created_at >= at)
    )
    if latest is not None:
        at = latest + timedelta(microseconds=1)
    record_event(
        session=session,
        merchant_id=owner.merchant_id,
        customer_id=owner.customer_id,
        event_type=event_type,
        resource=resource,
        previous=previous,
        actor=actor,
        clock=lambda: at,
    )
