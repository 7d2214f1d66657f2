"""Subscriptions the merchant starts, changes and cancels (API, dashboard, import): the portal's rules and events.

A new subscription starts `trialing`, or `incomplete` with its first invoice open until that invoice is paid: at
once by the default card (`active`), or later by the customer in the portal.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.clock import Clock
from app.db import Database
from app.enums import EventType, InvoiceStatus, SubscriptionStatus
from app.errors import Conflict, NotFound, ValidationFailed
from app.gateways.base import GatewayUnavailable, PaymentGateway
from app.models import Customer, Invoice, PaymentMethod, Price, Subscription, SubscriptionItem
from app.periods import add_interval
from app.services import lifecycle_mails
from app.services.api_lists import DEFAULT_LIMIT, newest_first_page, require_owned
from app.services.api_objects import InvoiceObject, ListObject, SubscriptionObject
from app.services.billing import period_invoice
from app.services.charges import RETRY_DELAYS, charge_invoice, end_subscription, load_subscription, record_at
from app.services.events import Actor
from app.services.portal_links import merchant_customer
from app.services.portal_settings import get_portal_settings
from app.services.prorations import apply_plan_change, prorate_plan_change
from app.views.inputs import SubscriptionInput

MAX_ITEMS = 20
MAX_QUANTITY = 1000
MAX_TRIAL_DAYS = 730
FIRST_INVOICE = "subscription_create"


def start_subscription(
    *,
    database: Database,
    merchant_id: str,
    subscription: SubscriptionInput,
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
) -> SubscriptionObject:
    """Start a subscription (`customer.subscription.created`) and bill its first period unless it has a trial.

    Without a trial, the first invoice is created (`invoice.created`) and charged to the customer's default card:
    paid, the subscription is `active`; without a card, or when the charge fails or the bank wants the customer to
    confirm it, it stays `incomplete` with the invoice open, which the customer pays in the portal (then it becomes
    `active`). Several transactions, as charging an invoice talks to the gateway outside any: a crash in between
    leaves an incomplete subscription with an open invoice, as a declined card does.
    """
    now = clock()
    with database.transaction() as session:
        created, invoice_id = _create(session, merchant_id, subscription, actor, now)
        has_card = invoice_id is not None and session.scalar(
            select(PaymentMethod.id).where(
                PaymentMethod.customer_id == subscription.customer_id, PaymentMethod.is_default
            )
        )
    if invoice_id is not None and has_card:
        # Declined, or waiting for the customer's bank: the invoice stays open and the subscription incomplete. The
        # card removed meanwhile (ValidationFailed), or the gateway out of reach: the same, nothing was charged.
        with suppress(ValidationFailed, GatewayUnavailable):
            charge_invoice(
                database=database, invoice_id=invoice_id, gateway=gateway, off_session=False, actor=actor, now=now
            )
    with database.transaction() as session:
        return get_subscription(session=session, merchant_id=merchant_id, subscription_id=created.id)


def _create(
    session: Session, merchant_id: str, details: SubscriptionInput, actor: Actor, now: datetime
) -> tuple[SubscriptionObject, str | None]:
    customer = _customer(session, merchant_id, details.customer_id)
    prices = check_subscription(session, merchant_id, details, now)
    trial_end = details.trial_end
    if details.trial_period_days is not None:
        trial_end = now + timedelta(days=details.trial_period_days)
    first_price = prices[0]
    subscription = Subscription(
        merchant_id=merchant_id,
        customer_id=customer.id,
        status=SubscriptionStatus.TRIALING if trial_end else SubscriptionStatus.INCOMPLETE,
        current_period_start=now,
        current_period_end=trial_end or add_interval(now, first_price.interval, first_price.interval_count),
        trial_end=trial_end,
        cancel_at_period_end=details.cancel_at_period_end,
        canceled_at=now if details.cancel_at_period_end else None,
        created_at=now,
    )
    for item, price in zip(details.items, prices, strict=True):
        subscription.items.append(SubscriptionItem(price=price, price_id=price.id, quantity=item.quantity))
    session.add(subscription)
    session.flush()
    created = SubscriptionObject.from_row(subscription)
    record_at(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_CREATED, created, now, actor=actor)
    if trial_end is not None:
        return created, None
    invoice = _first_invoice(session, subscription, now)
    record_at(session, subscription, EventType.INVOICE_CREATED, InvoiceObject.from_row(invoice), now, actor=actor)
    return created, invoice.id


def _customer(session: Session, merchant_id: str, customer_id: str) -> Customer:
    try:
        return merchant_customer(session, merchant_id, customer_id)
    except NotFound:
        raise NotFound("customer", param="customer") from None


def check_subscription(session: Session, merchant_id: str, details: SubscriptionInput, now: datetime) -> list[Price]:
    """The prices of a new subscription's items, after checking them: the merchant's active prices, each once, in
    one currency and billing cycle, whole quantities of 1 to 1,000; a trial of 1 to 730 days or ending in that
    range, not both. ValidationFailed names each bad field the way the API does (`items[0].price`, `trial_end`)."""
    errors: dict[str, str] = {}
    if not 1 <= len(details.items) <= MAX_ITEMS:
        errors["items"] = f"Give between 1 and {MAX_ITEMS} items."
    ids = [item.price_id for item in details.items]
    found = {
        price.id: price
        for price in session.scalars(
            select(Price)
            .where(Price.id.in_(ids), Price.merchant_id == merchant_id)
            .options(selectinload(Price.product))
        )
    }
    prices: list[Price] = []
    for index, item in enumerate(details.items):
        price = found.get(item.price_id)
        if price is None or not price.active:
            errors[f"items[{index}].price"] = "Choose one of your active prices."
        elif ids.index(item.price_id) != index:
            errors[f"items[{index}].price"] = "Give each price once, with its quantity."
        elif prices and price.currency != prices[0].currency:
            errors[f"items[{index}].price"] = f"All items need prices in one currency ({prices[0].currency})."
        elif prices and (price.interval, price.interval_count) != (prices[0].interval, prices[0].interval_count):
            errors[f"items[{index}].price"] = "All items need prices billed at the same interval."
        if price is not None:
            prices.append(price)
        if message := quantity_error(item.quantity):
            errors[f"items[{index}].quantity"] = message
    errors.update(_trial_errors(details, now))
    if errors:
        raise ValidationFailed(errors)
    return prices


def quantity_error(quantity: int) -> str | None:
    # A whole number: 1.7 is refused, not cut to 1.
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        return f"Choose a quantity between 1 and {MAX_QUANTITY}."
    return None


def _trial_errors(details: SubscriptionInput, now: datetime) -> dict[str, str]:
    if details.trial_period_days is not None and details.trial_end is not None:
        return {"trial_end": "Give the trial as trial_period_days or as trial_end, not both."}
    if details.trial_period_days is not None and not 1 <= details.trial_period_days <= MAX_TRIAL_DAYS:
        return {"trial_period_days": f"A trial lasts 1 to {MAX_TRIAL_DAYS} days."}
    trial_end = details.trial_end
    if trial_end is not None and (trial_end.tzinfo is None or not now < trial_end <= now + timedelta(MAX_TRIAL_DAYS)):
        return {"trial_end": f"A trial ends in the future, within {MAX_TRIAL_DAYS} days, with a time zone."}
    return {}


def _first_invoice(session: Session, subscription: Subscription, now: datetime) -> Invoice:
    invoice = period_invoice(
        session,
        subscription,
        subscription.current_period_start,
        subscription.current_period_end,
        billing_reason=FIRST_INVOICE,
        now=now,
    )
    session.add(invoice)
    session.flush()
    return invoice


def update_subscription(
    *,
    session: Session,
    merchant_id: str,
    subscription_id: str,
    price_id: str | None = None,
    quantity: int | None = None,
    cancel_at_period_end: bool | None = None,
    actor: Actor,
    clock: Clock,
) -> SubscriptionObject:
    """Change the plan (price and/or quantity of a one-item subscription, prorated as in the portal, including the
    merchant's choice to let downgrades wait for the period end) and/or whether it ends at the period end.

    Events as in the portal: `customer.subscription.updated` for each change, `invoice.created` for a proration
    invoice with an amount due (the customer pays it in the portal). Asking for what is already so changes nothing.
    An ended subscription cannot change (Conflict).
    """
    subscription = _merchant_subscription(session, merchant_id, subscription_id)
    now = clock()
    if subscription.status.is_ended and (price_id, quantity, cancel_at_period_end) != (None, None, None):
        raise Conflict(f"Subscription {subscription.id} has ended ({subscription.status}) and cannot change.")
    if price_id is not None or quantity is not None:
        _change_plan(session, subscription, price_id, quantity, actor, now)
    if cancel_at_period_end is not None and cancel_at_period_end != subscription.cancel_at_period_end:
        before = SubscriptionObject.from_row(subscription)
        subscription.cancel_at_period_end = cancel_at_period_end
        subscription.canceled_at = now if cancel_at_period_end else None
        if not cancel_at_period_end:
            subscription.cancellation_reason = subscription.cancellation_comment = ""
        _collect_open_invoices(session, subscription, resume=not cancel_at_period_end, now=now)
        _record_update(session, subscription, before, actor, now)
        if cancel_at_period_end:  # the customer hears of it as when they cancel in the portal
            lifecycle_mails.subscription_canceled(session, subscription, now, ended=False)
    session.flush()
    return SubscriptionObject.from_row(subscription)


def _change_plan(
    session: Session,
    subscription: Subscription,
    price_id: str | None,
    quantity: int | None,
    actor: Actor,
    now: datetime,
) -> None:
    if len(subscription.items) != 1:
        raise ValidationFailed({"price": "Only a subscription with one item can change its price or quantity."})
    if not subscription.status.can_change_plan:
        raise Conflict(f"Only an active or trialing subscription can change plans; this one is {subscription.status}.")
    item = subscription.items[0]
    price = item.price if price_id is None else session.get(Price, price_id)
    quantity = item.quantity if quantity is None else quantity
    errors: dict[str, str] = {}
    if price is None or price.merchant_id != subscription.merchant_id or not price.active:
        errors["price"] = "Choose one of your active prices."
    elif price.currency != item.price.currency:
        errors["price"] = f"Choose a price in the subscription's currency ({item.price.currency})."
    if message := quantity_error(quantity):
        errors["quantity"] = message
    if errors or price is None:
        raise ValidationFailed(errors)
    if (item.price_id, item.quantity) == (price.id, quantity):
        return
    settings = get_portal_settings(session=session, merchant_id=subscription.merchant_id)
    proration = prorate_plan_change(
        subscription, price, quantity, now, downgrades_at_period_end=settings.downgrades_at_period_end
    )
    before = SubscriptionObject.from_row(subscription)
    if proration.scheduled:
        if (subscription.scheduled_price_id, subscription.scheduled_quantity) != (price.id, quantity):
            subscription.scheduled_price_id, subscription.scheduled_quantity = price.id, quantity
            subscription.scheduled_price = price
            _record_update(session, subscription, before, actor, now)
        return
    invoice = apply_plan_change(session, subscription, price, quantity, proration)
    _record_update(session, subscription, before, actor, now)
    if invoice is not None and invoice.status == InvoiceStatus.OPEN:
        record_at(session, subscription, EventType.INVOICE_CREATED, InvoiceObject.from_row(invoice), now, actor=actor)


def _collect_open_invoices(session: Session, subscription: Subscription, *, resume: bool, now: datetime) -> None:
    """Canceling stops the automatic retries of the subscription's open invoices (they stay payable in the portal);
    keeping a past-due subscription after all starts them again, as "Don't cancel" in the portal does."""
    invoices = session.scalars(
        select(Invoice).where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
    )
    for invoice in invoices:
        if not resume:
            invoice.next_payment_attempt = None
        elif subscription.status == SubscriptionStatus.PAST_DUE and 1 <= invoice.attempt_count <= len(RETRY_DELAYS):
            invoice.next_payment_attempt = now + RETRY_DELAYS[invoice.attempt_count - 1]


def cancel_subscription_now(
    *, session: Session, merchant_id: str, subscription_id: str, actor: Actor, clock: Clock
) -> SubscriptionObject:
    """End the subscription now (`customer.subscription.deleted`); its open invoices stay payable but are no longer
    charged. Canceling an ended subscription changes nothing."""
    subscription = _merchant_subscription(session, merchant_id, subscription_id)
    if not subscription.status.is_ended:
        end_subscription(session, subscription, clock(), actor=actor)
    return SubscriptionObject.from_row(subscription)


def get_subscription(*, session: Session, merchant_id: str, subscription_id: str) -> SubscriptionObject:
    return SubscriptionObject.from_row(_merchant_subscription(session, merchant_id, subscription_id, lock=False))


def list_subscription_objects(
    *,
    session: Session,
    merchant_id: str,
    customer_id: str | None = None,
    status: SubscriptionStatus | None = None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
) -> ListObject[SubscriptionObject]:
    """The merchant's subscriptions, newest first, of one customer and/or in one status (NotFound for a customer
    not the merchant's)."""
    statement = select(Subscription).options(
        selectinload(Subscription.items).selectinload(SubscriptionItem.price),
        selectinload(Subscription.scheduled_price),
    )
    if customer_id is not None:
        require_owned(session, Customer, customer_id, merchant_id, param="customer")
        statement = statement.where(Subscription.customer_id == customer_id)
    else:
        statement = statement.where(Subscription.merchant_id == merchant_id)
    if status is not None:
        statement = statement.where(Subscription.status == status)
    rows, has_more = newest_first_page(
        session, statement, Subscription, merchant_id=merchant_id, limit=limit, starting_after=starting_after
    )
    return ListObject[SubscriptionObject](
        data=tuple(SubscriptionObject.from_row(row) for row in rows), has_more=has_more
    )


def _merchant_subscription(
    session: Session, merchant_id: str, subscription_id: str, *, lock: bool = True
) -> Subscription:
    owner = session.scalar(select(Subscription.merchant_id).where(Subscription.id == subscription_id))
    if owner != merchant_id:
        raise NotFound("subscription")
    if lock:
        return load_subscription(session, subscription_id)
    statement = (
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price))
    )
    return session.scalars(statement).one()


def _record_update(
    session: Session, subscription: Subscription, before: SubscriptionObject, actor: Actor, now: datetime
) -> None:
    after = SubscriptionObject.from_row(subscription)
    record_at(session, subscription, EventType.CUSTOMER_SUBSCRIPTION_UPDATED, after, now, actor=actor, previous=before)
