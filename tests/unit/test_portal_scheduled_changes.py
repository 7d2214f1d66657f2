"""Downgrades at the period end: scheduled without a credit, shown, cancelable, applied by the billing clock at the
boundary; upgrades stay immediate, and the merchant's switch decides."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import Database
from app.models import Invoice, InvoiceStatus, PortalSettings, Price, PriceInterval, Subscription
from app.services.billing import advance
from app.services.portal import cancel_scheduled_change, change_plan, preview_plan_change
from app.services.portal_links import PortalAccess
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import PERIOD_END, CardGateway, add_subscription, event_types, invoices_of

NOW = PERIOD_END - timedelta(days=10)


def _setup(database: Database, *, at_period_end: bool = True) -> tuple[str, PortalAccess, str]:
    """A 2-seat monthly Starter subscription, the merchant's switch, and the price id to switch within."""
    subscription_id = add_subscription(database, quantity=2)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        price_id = subscription.items[0].price_id
        row = session.get_one(PortalSettings, subscription.merchant_id)
        row.plan_switching = True
        row.switchable_price_ids = list(
            session.scalars(select(Price.id).where(Price.merchant_id == subscription.merchant_id, Price.active))
        )
        row.downgrades_at_period_end = at_period_end
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    return subscription_id, access, price_id


def _change(database: Database, access: PortalAccess, subscription_id: str, price_id: str, quantity: int):
    with database.transaction() as session:
        return change_plan(
            session=session,
            access=access,
            subscription_id=subscription_id,
            price_id=price_id,
            quantity=quantity,
            actor=ACTOR,
            clock=lambda: NOW,
        )


def test_fewer_seats_wait_for_the_period_end_and_the_clock_applies_them(database: Database) -> None:
    subscription_id, access, price_id = _setup(database)
    with database.transaction() as session:
        preview = preview_plan_change(
            session=session,
            access=access,
            subscription_id=subscription_id,
            price_id=price_id,
            quantity=1,
            clock=lambda: NOW,
        )
    assert preview.scheduled and preview.amount_due_now == 0 and (preview.credit, preview.charge) == (0, 0)
    assert (preview.next_renewal, preview.next_renewal_amount) == (PERIOD_END, 900)

    view = _change(database, access, subscription_id, price_id, 1)
    assert view.quantity == 2 and view.scheduled_quantity == 1 and view.scheduled_price is not None
    assert view.next_invoice_amount == 900
    assert invoices_of(database, subscription_id) == []  # no proration, no credit

    advance(database=database, now=PERIOD_END - timedelta(seconds=1), gateway=CardGateway())
    assert invoices_of(database, subscription_id) == []
    advance(database=database, now=PERIOD_END, gateway=CardGateway())
    [invoice] = invoices_of(database, subscription_id)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        assert (subscription.items[0].quantity, subscription.scheduled_quantity) == (1, None)
    assert invoice.total == 900 and invoice.status == InvoiceStatus.PAID and invoice.period_start == PERIOD_END
    assert event_types(database, subscription_id)[:3] == [
        "customer.subscription.updated",  # the customer scheduled it
        "customer.subscription.updated",  # the clock applied it
        "customer.subscription.updated",  # the new period
    ]


def test_cancel_scheduled_change_keeps_the_plan(database: Database) -> None:
    subscription_id, access, price_id = _setup(database)
    _change(database, access, subscription_id, price_id, 1)
    with database.transaction() as session:
        view = cancel_scheduled_change(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: NOW
        )
    assert view.scheduled_price is None and view.next_invoice_amount == 1800
    advance(database=database, now=PERIOD_END, gateway=CardGateway())
    assert [invoice.total for invoice in invoices_of(database, subscription_id)] == [1800]


def test_an_upgrade_is_immediate_and_replaces_a_scheduled_downgrade(database: Database) -> None:
    subscription_id, access, price_id = _setup(database)
    _change(database, access, subscription_id, price_id, 1)
    view = _change(database, access, subscription_id, price_id, 3)
    assert view.quantity == 3 and view.scheduled_price is None
    [proration] = invoices_of(database, subscription_id)
    assert proration.billing_reason == "subscription_update" and proration.total > 0


def test_without_the_switch_a_downgrade_is_immediate_with_a_credit(database: Database) -> None:
    subscription_id, access, price_id = _setup(database, at_period_end=False)
    view = _change(database, access, subscription_id, price_id, 1)
    assert view.quantity == 1 and view.scheduled_price is None
    with database.transaction() as session:
        draft = session.scalars(select(Invoice).where(Invoice.subscription_id == subscription_id)).one()
    assert draft.status == InvoiceStatus.DRAFT and draft.total < 0


def test_a_change_of_billing_interval_is_never_scheduled(database: Database) -> None:
    subscription_id, access, _ = _setup(database)
    with database.transaction() as session:
        yearly = session.scalars(
            select(Price.id).where(Price.merchant_id == access.merchant_id, Price.interval == PriceInterval.YEAR)
        ).first()
    assert yearly is not None
    view = _change(database, access, subscription_id, yearly, 1)
    assert view.price.id == yearly and view.scheduled_price is None
