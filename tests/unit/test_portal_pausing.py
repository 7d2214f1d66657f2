"""Pausing from the portal and the billing clock at the pause's boundaries: no invoice while paused, a fresh
period when it resumes (by itself at the end of a fixed pause, or when the customer resumes it)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.db import Database
from app.enums import CancelMode, InvoiceStatus, PauseDuration, PriceInterval, SubscriptionStatus
from app.errors import Forbidden, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import Event, Merchant, PortalSettings, Subscription
from app.periods import add_interval
from app.services.billing import advance
from app.services.portal import cancel_subscription, pause_subscription, resume_subscription
from app.services.portal_links import PortalAccess
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import (
    PERIOD_END,
    add_subscription,
    event_types,
    invoices_of,
    subscription_state,
)

MONTH_1, MONTH_2, MONTH_3 = (add_interval(PERIOD_END, PriceInterval.MONTH, count) for count in (1, 2, 3))


def _access(database: Database, subscription_id: str, **settings: object) -> PortalAccess:
    """A portal access for the subscription's customer, with pausing on (and `settings`) for its merchant."""
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        row = session.get_one(PortalSettings, subscription.merchant_id)
        row.pause_subscriptions = True
        for name, value in settings.items():
            setattr(row, name, value)
        return PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )


def _pause(database: Database, access: PortalAccess, subscription_id: str, duration: str, now=PERIOD_END):
    with database.transaction() as session:
        return pause_subscription(
            session=session,
            access=access,
            subscription_id=subscription_id,
            duration=duration,
            actor=ACTOR,
            clock=lambda: now - timedelta(days=5),
        )


def _resume(database: Database, access: PortalAccess, subscription_id: str, now):
    with database.transaction() as session:
        return resume_subscription(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: now
        )


def test_a_two_period_pause_skips_two_invoices_and_resumes_with_a_fresh_period(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database)
    access = _access(database, subscription_id)
    gateway = test_gateway

    view = _pause(database, access, subscription_id, PauseDuration.TWO_PERIODS)
    assert view.status == SubscriptionStatus.ACTIVE and view.pause_scheduled
    assert (view.pause_starts_at, view.pause_resumes_at) == (PERIOD_END, MONTH_2)
    assert view.next_invoice_at == MONTH_2

    # The paid period runs out: paused, and no invoice to charge.
    advance(database=database, now=PERIOD_END, gateway=gateway)
    paused = subscription_state(database, subscription_id)
    assert paused.status == SubscriptionStatus.PAUSED
    assert invoices_of(database, subscription_id) == []
    advance(database=database, now=MONTH_2 - timedelta(seconds=1), gateway=gateway)
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.PAUSED
    assert invoices_of(database, subscription_id) == []

    # The pause ends: active again, with a period from the resume date, invoiced and charged then.
    advance(database=database, now=MONTH_2, gateway=gateway)
    resumed = subscription_state(database, subscription_id)
    [invoice] = invoices_of(database, subscription_id)
    assert resumed.status == SubscriptionStatus.ACTIVE
    assert (resumed.current_period_start, resumed.current_period_end) == (
        MONTH_2,
        add_interval(MONTH_2, PriceInterval.MONTH),
    )
    assert (resumed.pause_starts_at, resumed.pause_resumes_at) == (None, None)
    assert invoice.period_start == MONTH_2 and invoice.status == InvoiceStatus.PAID and invoice.total == 1800
    assert event_types(database, subscription_id) == [
        "customer.subscription.updated",  # the customer chose the pause
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.updated",  # the new period
        "invoice.created",
        "invoice.paid",
    ]
    # A second run at the same moment changes nothing.
    advance(database=database, now=MONTH_2, gateway=gateway)
    assert len(invoices_of(database, subscription_id)) == 1


def test_until_resumed_stays_paused_until_the_customer_resumes(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database)
    access = _access(database, subscription_id)
    gateway = test_gateway
    view = _pause(database, access, subscription_id, PauseDuration.UNTIL_RESUMED)
    assert view.pause_resumes_at is None and view.next_invoice_amount is None

    advance(database=database, now=MONTH_3, gateway=gateway)
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.PAUSED
    assert invoices_of(database, subscription_id) == []

    resumed_at = MONTH_3 + timedelta(days=4)
    view = _resume(database, access, subscription_id, resumed_at)
    assert view.status == SubscriptionStatus.ACTIVE
    assert (view.current_period_start, view.current_period_end) == (
        resumed_at,
        add_interval(resumed_at, PriceInterval.MONTH),
    )
    [invoice] = invoices_of(database, subscription_id)
    assert invoice.status == InvoiceStatus.OPEN and invoice.next_payment_attempt == resumed_at
    advance(database=database, now=resumed_at, gateway=gateway)  # the clock collects it right away
    assert invoices_of(database, subscription_id)[0].status == InvoiceStatus.PAID
    assert _resume(database, access, subscription_id, resumed_at) == view  # resuming again changes nothing


def test_dont_pause_drops_a_pause_that_has_not_begun(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id = add_subscription(database)
    access = _access(database, subscription_id)
    _pause(database, access, subscription_id, PauseDuration.ONE_PERIOD)
    view = _resume(database, access, subscription_id, PERIOD_END - timedelta(days=1))
    assert view.status == SubscriptionStatus.ACTIVE and view.pause_starts_at is None
    advance(database=database, now=PERIOD_END, gateway=test_gateway)
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.ACTIVE
    assert len(invoices_of(database, subscription_id)) == 1  # renewed as usual


def test_pausing_is_refused_when_off_not_offered_or_not_possible(database: Database) -> None:
    subscription_id = add_subscription(database)
    access = _access(database, subscription_id, pause_durations=[PauseDuration.ONE_PERIOD.value])
    with pytest.raises(ValidationFailed) as refused:
        _pause(database, access, subscription_id, PauseDuration.THREE_PERIODS)
    assert refused.value.field_errors == {"duration": "Choose one of the pause options."}
    with pytest.raises(ValidationFailed):
        _pause(database, access, subscription_id, "forever")

    cancels = add_subscription(database, cancel_at_period_end=True)
    with pytest.raises(ValidationFailed, match="can be paused"):
        _pause(database, _access(database, cancels), cancels, PauseDuration.ONE_PERIOD)
    past_due = add_subscription(database, status=SubscriptionStatus.PAST_DUE)
    with pytest.raises(ValidationFailed, match="can be paused"):
        _pause(database, _access(database, past_due), past_due, PauseDuration.ONE_PERIOD)

    _access(database, subscription_id, pause_subscriptions=False)
    with pytest.raises(Forbidden):
        _pause(database, access, subscription_id, PauseDuration.ONE_PERIOD)
    assert subscription_state(database, subscription_id).pause_starts_at is None


def test_a_paused_subscription_is_canceled_at_once_and_a_pending_pause_is_dropped(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database)
    access = _access(database, subscription_id, cancel_mode=CancelMode.AT_PERIOD_END)
    _pause(database, access, subscription_id, PauseDuration.ONE_PERIOD)
    advance(database=database, now=PERIOD_END, gateway=test_gateway)
    with database.transaction() as session:
        view = cancel_subscription(
            session=session,
            access=access,
            subscription_id=subscription_id,
            actor=ACTOR,
            clock=lambda: PERIOD_END + timedelta(days=3),
        )
    assert view.status == SubscriptionStatus.CANCELED and view.pause_starts_at is None
    advance(database=database, now=MONTH_1, gateway=test_gateway)
    assert invoices_of(database, subscription_id) == []


def test_pause_events_name_the_pause_dates(database: Database) -> None:
    subscription_id = add_subscription(database)
    access = _access(database, subscription_id)
    _pause(database, access, subscription_id, PauseDuration.THREE_PERIODS)
    with database.transaction() as session:
        event = session.scalars(select(Event).where(Event.object_id == subscription_id)).one()
        merchant = session.get_one(Merchant, access.merchant_id)
    assert event.type == "customer.subscription.updated" and event.portal_link_id == "pl_test"
    pause = event.data["object"]["pause_collection"]
    assert datetime.fromisoformat(pause["resumes_at"]) == MONTH_3 and merchant.id == event.merchant_id
    assert event.data["previous_attributes"] == {"pause_collection": None}
