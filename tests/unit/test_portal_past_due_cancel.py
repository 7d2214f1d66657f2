"""Canceling a past-due subscription is honest: retries of its open invoices stop, the invoices stay payable, and
the portal never says "You won't be charged again" while money is owed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import Database
from app.enums import CancelMode, InvoiceStatus, SubscriptionStatus
from app.models import Invoice, PortalSettings, Subscription
from app.services.billing import advance
from app.services.charges import RETRY_DELAYS
from app.services.portal import cancel_subscription, load_portal_data, undo_cancellation
from app.services.portal_links import PortalAccess
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import PERIOD_END, CardGateway, add_subscription, invoices_of


def _past_due(database: Database, mode: CancelMode) -> tuple[str, PortalAccess]:
    """A subscription whose renewal was declined once (past due, a retry due in a day), and its customer's access."""
    subscription_id = add_subscription(database, last4="0002")
    advance(database=database, now=PERIOD_END, gateway=CardGateway())
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        assert subscription.status == SubscriptionStatus.PAST_DUE
        session.get_one(PortalSettings, subscription.merchant_id).cancel_mode = mode
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    return subscription_id, access


def _cancel(database: Database, access: PortalAccess, subscription_id: str):
    with database.transaction() as session:
        return cancel_subscription(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: PERIOD_END
        )


def test_canceling_at_period_end_stops_retries_now_and_keeps_the_invoice_payable(database: Database) -> None:
    subscription_id, access = _past_due(database, CancelMode.AT_PERIOD_END)
    view = _cancel(database, access, subscription_id)
    [invoice] = invoices_of(database, subscription_id)
    assert view.cancel_at_period_end and view.amount_owed == invoice.amount_due == 1800
    assert invoice.status == InvoiceStatus.OPEN and invoice.next_payment_attempt is None

    gateway = CardGateway()
    advance(database=database, now=PERIOD_END + sum(RETRY_DELAYS, timedelta()), gateway=gateway)
    assert not [charge for charge in gateway.charges if charge.metadata["invoice"] == invoice.id]
    assert invoices_of(database, subscription_id)[0].attempt_count == 1
    with database.transaction() as session:
        data = load_portal_data(session=session, access=access)
    assert [subscription.amount_owed for subscription in data.subscriptions] == [1800]


def test_dont_cancel_restarts_the_retries(database: Database) -> None:
    subscription_id, access = _past_due(database, CancelMode.AT_PERIOD_END)
    _cancel(database, access, subscription_id)
    later = PERIOD_END + timedelta(hours=5)
    with database.transaction() as session:
        view = undo_cancellation(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: later
        )
    [invoice] = invoices_of(database, subscription_id)
    assert not view.cancel_at_period_end and view.amount_owed == 1800
    assert invoice.next_payment_attempt == later + RETRY_DELAYS[0]


def test_canceling_now_ends_it_and_leaves_the_invoice_open_without_retries(database: Database) -> None:
    subscription_id, access = _past_due(database, CancelMode.IMMEDIATELY)
    view = _cancel(database, access, subscription_id)
    assert view.status == SubscriptionStatus.CANCELED and view.amount_owed == 1800
    with database.transaction() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.subscription_id == subscription_id)).one()
        assert invoice.status == InvoiceStatus.OPEN and invoice.next_payment_attempt is None
