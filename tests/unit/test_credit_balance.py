"""A plan change's credit larger than the next invoice is carried forward to the customer's credit balance, and
later invoices use it up, one after another."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import Database
from app.gateways.base import PaymentGateway
from app.models import Customer, Invoice, PortalSettings, Price, PriceInterval, Subscription
from app.periods import add_interval
from app.services.billing import advance
from app.services.plan_changes import CREDIT_APPLIED, CREDIT_CARRIED
from app.services.portal import change_plan, load_portal_data
from app.services.portal_links import PortalAccess
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import PERIOD_END, add_subscription, invoices_of

NOW = PERIOD_END - timedelta(days=30)  # a day into the 31-day period


def _balance(database: Database, customer_id: str) -> int:
    with database.transaction() as session:
        return session.get_one(Customer, customer_id).credit_balance


def test_credit_beyond_the_next_invoice_is_kept_and_used_on_later_invoices(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database, quantity=10)  # 10 × 9.00 USD = 90.00 USD a month
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        price_id = subscription.items[0].price_id
        row = session.get_one(PortalSettings, subscription.merchant_id)
        row.plan_switching, row.switchable_price_ids = True, list(session.scalars(select(Price.id)))
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    with database.transaction() as session:
        change_plan(
            session=session,
            access=access,
            subscription_id=subscription_id,
            price_id=price_id,
            quantity=1,
            actor=ACTOR,
            clock=lambda: NOW,
        )
    # Credit for 30 of 31 days of 9 seats: 8,710 (90.00 × 30/31 less 9.00 × 30/31); the renewal is 9.00.
    advance(database=database, now=PERIOD_END, gateway=test_gateway)
    [renewal] = invoices_of(database, subscription_id)
    with database.transaction() as session:
        lines = [(line.description, line.amount) for line in session.get_one(Invoice, renewal.id).lines]
    credit = -sum(amount for description, amount in lines if description.startswith("Unused time"))
    charge = sum(amount for description, amount in lines if description.startswith("Remaining time"))
    carried = credit - charge - 900
    assert carried > 0 and lines[-1] == (CREDIT_CARRIED, carried)
    assert (renewal.total, renewal.amount_due) == (0, 0)
    assert _balance(database, access.customer_id) == carried
    with database.transaction() as session:
        shown = load_portal_data(session=session, access=access).customer
    assert (shown.credit_balance, shown.credit_currency) == (carried, "USD")

    # The next renewals use the balance up, 9.00 at a time, then are charged in full.
    months = carried // 900 + 2
    for month in range(1, months + 1):
        advance(database=database, now=add_interval(PERIOD_END, PriceInterval.MONTH, month), gateway=test_gateway)
    invoices = invoices_of(database, subscription_id)[1:]
    full, rest = divmod(carried, 900)
    assert [invoice.total for invoice in invoices[:full]] == [0] * full
    assert invoices[full].total == 900 - rest
    assert invoices[full + 1].total == 900
    with database.transaction() as session:
        used = [
            line.amount
            for line in session.get_one(Invoice, invoices[full].id).lines
            if line.description == CREDIT_APPLIED
        ]
    assert used == [-rest]
    assert _balance(database, access.customer_id) == 0
