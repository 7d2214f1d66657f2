"""Subscription changes a customer makes in the portal: cancel, "Don't cancel" and plan switches with proration."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.enums import (
    CancellationReason,
    CancelMode,
    EventType,
    InvoiceStatus,
    SubscriptionStatus,
)
from app.errors import ValidationFailed
from app.i18n import N_
from app.models import (
    Invoice,
    Price,
    Subscription,
)
from app.services import lifecycle_mails
from app.services.api_objects import InvoiceObject, SubscriptionObject
from app.services.charges import RETRY_DELAYS
from app.services.events import Actor
from app.services.portal.access import (
    enabled_settings,
    owned_subscription,
    record_portal_event,
    record_subscription_update,
)
from app.services.portal_links import PortalAccess
from app.services.prorations import apply_plan_change, prorate_plan_change
from app.services.resource_views import (
    subscription_view,
)
from app.validation import (
    check_length,
)
from app.views import (
    ProrationView,
    SubscriptionView,
)

log = logging.getLogger(__name__)


MAX_COMMENT_LENGTH = 500
MAX_QUANTITY = 1000


def cancel_subscription(
    *,
    session: Session,
    access: PortalAccess,
    subscription_id: str,
    reason: str = "",
    comment: str = "",
    actor: Actor,
    clock: Clock,
) -> SubscriptionView:
    """Cancel as the merchant's settings say: immediately, or at the end of the billing period (a paused
    subscription ends immediately).

    Idempotent: cancelling what is already cancelled (or already pending in at-period-end mode) changes nothing and
    records no event. Payment retries of the subscription's open invoices stop; the invoices stay open, so what is
    owed can still be paid in the portal (never voided: the customer used what they were billed for). The reason
    (a `CancellationReason` value) and comment are kept only when reasons are enabled.
    """
    settings = enabled_settings(session=session, access=access, feature="cancel_subscriptions")
    subscription = owned_subscription(session, access, subscription_id)
    if settings.cancellation_reasons:
        errors = {}
        if reason and reason not in set(CancellationReason):
            errors["reason"] = N_("Choose one of the reasons.")
        if message := check_length(comment, MAX_COMMENT_LENGTH, multiline=True):
            errors["comment"] = message
        if errors:
            raise ValidationFailed(errors)
    else:
        reason = comment = ""
    # A paused subscription has no paid period left to wait for: it ends now.
    immediately = settings.cancel_mode == CancelMode.IMMEDIATELY or subscription.status == SubscriptionStatus.PAUSED
    if subscription.status.is_ended or (subscription.cancel_at_period_end and not immediately):
        return subscription_view(subscription)
    now = clock()
    before = SubscriptionObject.from_row(subscription)
    subscription.pause_starts_at = subscription.pause_resumes_at = None  # a pause that has not begun is dropped
    subscription.cancellation_reason = reason
    subscription.cancellation_comment = comment.strip()
    if immediately:
        subscription.status = SubscriptionStatus.CANCELED
        subscription.cancel_at_period_end = False
        subscription.canceled_at = subscription.ended_at = now
        after = SubscriptionObject.from_row(subscription)
        record_portal_event(session, access, EventType.CUSTOMER_SUBSCRIPTION_DELETED, after, actor, clock)
    else:
        subscription.cancel_at_period_end = True
        subscription.canceled_at = now
        record_subscription_update(session, access, subscription, before, actor, clock)
    lifecycle_mails.subscription_canceled(session, subscription, now, ended=immediately)
    # What is owed stays owed and payable in the portal, but is no longer charged automatically.
    open_invoices = _open_invoices(session, subscription)
    for invoice in open_invoices:
        invoice.next_payment_attempt = None
    return subscription_view(subscription, amount_owed=sum(invoice.amount_due for invoice in open_invoices))


def _open_invoices(session: Session, subscription: Subscription) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
        )
    )


def undo_cancellation(
    *, session: Session, access: PortalAccess, subscription_id: str, actor: Actor, clock: Clock
) -> SubscriptionView:
    """Keep a subscription that was going to end at the period end ("Don't cancel"). Idempotent."""
    enabled_settings(session=session, access=access, feature="cancel_subscriptions")
    subscription = owned_subscription(session, access, subscription_id)
    if subscription.status.is_ended:
        raise ValidationFailed({"subscription": N_("This subscription has already ended.")})
    if not subscription.cancel_at_period_end:
        return subscription_view(subscription)
    before = SubscriptionObject.from_row(subscription)
    subscription.cancel_at_period_end = False
    subscription.canceled_at = None
    subscription.cancellation_reason = subscription.cancellation_comment = ""
    open_invoices = _open_invoices(session, subscription)
    if subscription.status == SubscriptionStatus.PAST_DUE:  # the retries that canceling stopped start again
        now = clock()
        for invoice in open_invoices:
            if 1 <= invoice.attempt_count <= len(RETRY_DELAYS):
                invoice.next_payment_attempt = now + RETRY_DELAYS[invoice.attempt_count - 1]
    record_subscription_update(session, access, subscription, before, actor, clock)
    return subscription_view(subscription, amount_owed=sum(invoice.amount_due for invoice in open_invoices))


def _plan_change(
    session: Session, access: PortalAccess, subscription_id: str, price_id: str, quantity: int, now: datetime
) -> tuple[Subscription, Price, ProrationView]:
    """Check a plan change the customer asks for and compute its proration (see `prorate_plan_change`)."""
    settings = enabled_settings(session=session, access=access, feature="plan_switching")
    subscription = owned_subscription(session, access, subscription_id)
    errors: dict[str, str] = {}
    if not subscription.status.can_change_plan:
        errors["subscription"] = N_("Only an active subscription can change plans.")
    price = session.get(Price, price_id)
    item = subscription.items[0]
    if (
        price is None
        or price.merchant_id != access.merchant_id
        or price.id not in settings.switchable_price_ids
        or not price.active
        or price.currency != item.price.currency
    ):
        errors["price_id"] = N_("Choose one of the plans offered.")
    # A whole number: 1.7 (which the websocket can carry) is refused, not cut to 1.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = f"Choose a quantity between 1 and {MAX_QUANTITY}."
    if errors or price is None:
        raise ValidationFailed(errors)
    view = prorate_plan_change(
        subscription, price, quantity, now, downgrades_at_period_end=settings.downgrades_at_period_end
    )
    return subscription, price, view


def preview_plan_change(
    *, session: Session, access: PortalAccess, subscription_id: str, price_id: str, quantity: int, clock: Clock
) -> ProrationView:
    """What switching to `price_id` × `quantity` would cost now (nothing is changed)."""
    subscription, _, view = _plan_change(session, access, subscription_id, price_id, quantity, clock())
    item = subscription.items[0]
    if (item.price_id, item.quantity) == (price_id, quantity):
        raise ValidationFailed({"price_id": N_("This is already your plan. Choose another plan or quantity.")})
    return view


def change_plan(
    *,
    session: Session,
    access: PortalAccess,
    subscription_id: str,
    price_id: str,
    quantity: int,
    actor: Actor,
    clock: Clock,
) -> SubscriptionView:
    """Switch plan/quantity now and bill the proration (see `prorate_plan_change`) on a new invoice.

    When something is due, an open invoice is issued for it now (paid with "Pay now" or by the billing clock's
    collection; recorded as `invoice.created` after the subscription's update). When the credit covers the charge,
    the proration lines wait on a draft invoice that the billing clock folds into the next renewal invoice, so the
    credit is taken off it. Asking for the current plan again changes nothing (a double click is harmless). A
    scheduled downgrade (see `_plan_change`) is only recorded: the billing clock applies it at the period end.
    """
    now = clock()
    subscription, price, proration = _plan_change(session, access, subscription_id, price_id, quantity, now)
    item = subscription.items[0]
    if (item.price_id, item.quantity) == (price_id, quantity):
        return subscription_view(subscription)
    if proration.scheduled:
        return _schedule_change(session, access, subscription, price, quantity, actor, clock)
    before = SubscriptionObject.from_row(subscription)
    invoice = apply_plan_change(session, subscription, price, quantity, proration)
    record_subscription_update(session, access, subscription, before, actor, clock)
    if invoice is not None and invoice.status == InvoiceStatus.OPEN:
        record_portal_event(session, access, EventType.INVOICE_CREATED, InvoiceObject.from_row(invoice), actor, clock)
    session.flush()
    return subscription_view(subscription)


def _schedule_change(
    session: Session,
    access: PortalAccess,
    subscription: Subscription,
    price: Price,
    quantity: int,
    actor: Actor,
    clock: Clock,
) -> SubscriptionView:
    if (subscription.scheduled_price_id, subscription.scheduled_quantity) != (price.id, quantity):
        before = SubscriptionObject.from_row(subscription)
        subscription.scheduled_price_id, subscription.scheduled_quantity = price.id, quantity
        subscription.scheduled_price = price
        record_subscription_update(session, access, subscription, before, actor, clock)
    return subscription_view(subscription)


def cancel_scheduled_change(
    *, session: Session, access: PortalAccess, subscription_id: str, actor: Actor, clock: Clock
) -> SubscriptionView:
    """Keep the current plan after all: drop the change scheduled for the period end. Nothing scheduled: no change.

    Allowed even after the merchant stopped offering plan switches: a customer can always keep what they have.
    """
    subscription = owned_subscription(session, access, subscription_id)
    if subscription.scheduled_price_id is not None:
        before = SubscriptionObject.from_row(subscription)
        subscription.scheduled_price_id = subscription.scheduled_quantity = None
        subscription.scheduled_price = None
        record_subscription_update(session, access, subscription, before, actor, clock)
    return subscription_view(subscription)
