"""Resubscribing from the portal: an ended subscription restarts with a new period charged now, with the same
payment-failure handling as any charge, and the billing clock renews it from there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import Database
from app.enums import ChargeStatus, InvoiceStatus, PriceInterval, SubscriptionStatus
from app.errors import Forbidden, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import PaymentMethod, PortalSettings, Price, Subscription
from app.periods import add_interval
from app.services.billing import advance
from app.services.payments import complete_payment, pay_invoice, payment_authentication
from app.services.portal import resubscribe
from app.services.portal_links import PortalAccess
from tests.payment_support import Browser
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import PERIOD_END, add_subscription, event_types, invoices_of, subscription_state

ENDED = PERIOD_END + timedelta(minutes=1)
BACK = PERIOD_END + timedelta(days=20)


def _ended(database: Database, gateway: PaymentGateway, *, last4: str = "4242", **settings: object):
    """A subscription that ended at PERIOD_END (canceled at period end), with resubscribing on."""
    subscription_id = add_subscription(database, cancel_at_period_end=True, last4=last4)
    advance(database=database, now=ENDED, gateway=gateway)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        row = session.get_one(PortalSettings, subscription.merchant_id)
        row.resubscribe = True
        for name, value in settings.items():
            setattr(row, name, value)
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.CANCELED
    return subscription_id, access


def _resubscribe(database, access, subscription_id, gateway, price_id=None, now=BACK):
    return resubscribe(
        database=database,
        access=access,
        subscription_id=subscription_id,
        price_id=price_id,
        gateway=gateway,
        actor=ACTOR,
        clock=lambda: now,
    )


def test_resubscribing_charges_a_new_period_now_and_the_clock_renews_it(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id, access = _ended(database, test_gateway)
    outcome = _resubscribe(database, access, subscription_id, test_gateway)

    assert outcome.status == ChargeStatus.PAID and outcome.subscription_status == SubscriptionStatus.ACTIVE
    subscription = subscription_state(database, subscription_id)
    renews = add_interval(BACK, PriceInterval.MONTH)
    assert (subscription.current_period_start, subscription.current_period_end) == (BACK, renews)
    assert subscription.canceled_at is None and subscription.ended_at is None
    [invoice] = invoices_of(database, subscription_id)
    assert (invoice.status, invoice.total, invoice.period_start) == (InvoiceStatus.PAID, 1800, BACK)
    assert event_types(database, subscription_id) == [
        "customer.subscription.deleted",
        "customer.subscription.resubscribed",
        "customer.subscription.updated",  # the new period
        "invoice.created",
        "invoice.paid",
        "customer.subscription.updated",  # active once paid
    ]
    # The billing clock renews it at the end of its new period: one invoice per period, as for any subscription.
    advance(database=database, now=renews, gateway=test_gateway)
    assert [i.period_start for i in invoices_of(database, subscription_id)] == [BACK, renews]
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.ACTIVE


def test_a_declined_card_leaves_it_incomplete_with_an_open_invoice_the_customer_can_pay(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id, access = _ended(database, test_gateway, last4="0002")
    outcome = _resubscribe(database, access, subscription_id, test_gateway)

    assert outcome.status == ChargeStatus.FAILED and outcome.failure_message
    assert outcome.subscription_status == SubscriptionStatus.INCOMPLETE
    [invoice] = invoices_of(database, subscription_id)
    assert invoice.status == InvoiceStatus.OPEN and invoice.next_payment_attempt is None
    assert "invoice.payment_failed" in event_types(database, subscription_id)
    # The billing clock does not retry it, nor renew an incomplete subscription at the end of the period.
    advance(database=database, now=add_interval(BACK, PriceInterval.MONTH, 2), gateway=test_gateway)
    assert len(invoices_of(database, subscription_id)) == 1
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.INCOMPLETE
    # Resubscribing again is refused (it has not ended, it waits for payment).
    with pytest.raises(ValidationFailed):
        _resubscribe(database, access, subscription_id, test_gateway)

    # A good card, and Pay now: active.
    with database.transaction() as session:
        session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)
        ).one().last4 = "4242"
    paid = pay_invoice(
        database=database, access=access, invoice_id=invoice.id, gateway=test_gateway, actor=ACTOR, clock=lambda: BACK
    )
    assert paid.status == ChargeStatus.PAID and paid.subscription_status == SubscriptionStatus.ACTIVE


def test_a_card_that_asks_for_3d_secure_needs_the_customers_confirmation(
    database: Database, test_gateway: PaymentGateway
) -> None:
    # Invoice history is off: the confirmation must not depend on it (the portal asks for it right after the charge).
    subscription_id, access = _ended(database, test_gateway, last4="3155", invoice_history=False)
    outcome = _resubscribe(database, access, subscription_id, test_gateway)
    assert outcome.status == ChargeStatus.REQUIRES_ACTION and outcome.invoice.requires_action
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.INCOMPLETE
    assert "invoice.payment_action_required" in event_types(database, subscription_id)

    invoice_id = outcome.invoice.id
    with database.transaction() as session:
        authentication = payment_authentication(
            session=session, access=access, invoice_id=invoice_id, gateway=test_gateway
        )
    confirmation = Browser(test_gateway).authenticate_payment(authentication.client_secret, approve=True)
    paid = complete_payment(
        database=database,
        access=access,
        invoice_id=invoice_id,
        confirmation=confirmation,
        gateway=test_gateway,
        actor=ACTOR,
        clock=lambda: BACK,
    )
    assert paid.status == ChargeStatus.PAID and paid.subscription_status == SubscriptionStatus.ACTIVE


def test_the_merchants_switch_and_price_choice_are_enforced(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id, access = _ended(database, test_gateway, resubscribe=False)
    with pytest.raises(Forbidden):
        _resubscribe(database, access, subscription_id, test_gateway)
    with database.transaction() as session:
        row = session.get_one(PortalSettings, access.merchant_id)
        row.resubscribe = True
        own = session.get_one(Subscription, subscription_id).items[0].price_id
        other = session.scalars(
            select(Price.id).where(Price.merchant_id == access.merchant_id, Price.active, Price.id != own)
        ).first()
    # Another price only when the merchant offers the choice.
    with pytest.raises(ValidationFailed) as refused:
        _resubscribe(database, access, subscription_id, test_gateway, price_id=other)
    assert "price_id" in refused.value.field_errors
    with database.transaction() as session:
        session.get_one(PortalSettings, access.merchant_id).resubscribe_price_choice = True
    outcome = _resubscribe(database, access, subscription_id, test_gateway, price_id=other)
    assert outcome.status == ChargeStatus.PAID
    with database.transaction() as session:
        assert session.get_one(Subscription, subscription_id).items[0].price_id == other


def test_an_active_subscription_or_no_card_cannot_resubscribe(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id, access = _ended(database, test_gateway)
    with database.transaction() as session:
        for card in session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)):
            session.delete(card)
    with pytest.raises(ValidationFailed) as refused:
        _resubscribe(database, access, subscription_id, test_gateway)
    assert "payment_method" in refused.value.field_errors
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.CANCELED  # nothing changed
    active_id = add_subscription(database)
    with database.transaction() as session:
        customer = session.get_one(Subscription, active_id).customer_id
    active_access = PortalAccess(link_id="pl_test", merchant_id=access.merchant_id, customer_id=customer, return_url="")
    with pytest.raises(ValidationFailed):
        _resubscribe(database, active_access, active_id, test_gateway)
