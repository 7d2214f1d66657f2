"""The retention offer: made once when a customer chooses to cancel; accepted, it keeps the subscription and takes
the coupon off exactly the next N invoices, line by line; the merchant's switch is enforced."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import Database
from app.enums import DiscountKind, PriceInterval, SubscriptionStatus
from app.errors import Forbidden, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import Invoice, PortalSettings, Subscription
from app.periods import add_interval
from app.services.activity import retention_counts
from app.services.billing import advance
from app.services.portal import accept_retention_offer, make_retention_offer
from app.services.portal_links import PortalAccess
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import PERIOD_END, add_subscription, event_types, invoices_of, subscription_state

NOW = PERIOD_END - timedelta(days=5)


def _setup(database: Database, **settings: object) -> tuple[str, PortalAccess]:
    subscription_id = add_subscription(database)  # 2 × Starter (9.00 USD) = 18.00 USD a month
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        row = session.get_one(PortalSettings, subscription.merchant_id)
        row.retention_offer = True
        for name, value in settings.items():
            setattr(row, name, value)
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
    return subscription_id, access


def _offer(database: Database, access: PortalAccess, subscription_id: str):
    with database.transaction() as session:
        return make_retention_offer(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: NOW
        )


def _accept(database: Database, access: PortalAccess, subscription_id: str):
    with database.transaction() as session:
        return accept_retention_offer(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: NOW
        )


def _lines(invoice: Invoice, database: Database) -> list[tuple[str, int]]:
    with database.transaction() as session:
        return [(line.description, line.amount) for line in session.get_one(Invoice, invoice.id).lines]


def test_an_accepted_offer_takes_half_off_exactly_the_next_three_invoices(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id, access = _setup(database)
    offer = _offer(database, access, subscription_id)
    assert offer is not None and offer.discount.kind == DiscountKind.PERCENT
    assert (offer.discount.value, offer.discount.invoices) == (50, 3)
    view = _accept(database, access, subscription_id)
    assert view.status == SubscriptionStatus.ACTIVE and not view.cancel_at_period_end
    assert view.discount is not None and view.next_invoice_amount == 900
    assert event_types(database, subscription_id)[-2:] == [
        "customer.subscription.retention_offered",
        "customer.subscription.retention_accepted",
    ]

    # Four renewals: three at half price with a discount line, then the full price again.
    for months in range(4):
        advance(database=database, now=add_interval(PERIOD_END, PriceInterval.MONTH, months), gateway=test_gateway)
    invoices = invoices_of(database, subscription_id)
    assert [invoice.total for invoice in invoices] == [900, 900, 900, 1800]
    assert _lines(invoices[0], database) == [("2 × Starter monthly", 1800), ("Discount: 50% off", -900)]
    assert _lines(invoices[3], database) == [("2 × Starter monthly", 1800)]
    subscription = subscription_state(database, subscription_id)
    assert subscription.discount_invoices_left == 0

    # Offered at most once: asking again (the customer cancels after all) gives nothing.
    assert _offer(database, access, subscription_id) is None
    with database.transaction() as session:
        assert retention_counts(session=session, merchant_id=access.merchant_id) == (1, 1)


def test_an_amount_off_is_capped_by_the_invoice(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id, access = _setup(
        database, retention_discount_kind=DiscountKind.AMOUNT, retention_discount_value=2500, retention_periods=1
    )
    _offer(database, access, subscription_id)
    _accept(database, access, subscription_id)
    advance(database=database, now=add_interval(PERIOD_END, PriceInterval.MONTH), gateway=test_gateway)
    first, second = invoices_of(database, subscription_id)
    assert (first.total, second.total) == (0, 1800)
    assert _lines(first, database)[-1] == ("Discount: $25.00 off", -1800)


def test_declining_is_remembered_and_the_switch_is_enforced(database: Database) -> None:
    subscription_id, access = _setup(database, retention_offer=False)
    assert _offer(database, access, subscription_id) is None  # off: the cancellation goes on
    with pytest.raises(Forbidden):
        _accept(database, access, subscription_id)
    with database.transaction() as session:
        session.get_one(PortalSettings, access.merchant_id).retention_offer = True
    with pytest.raises(ValidationFailed):  # never offered: nothing to accept
        _accept(database, access, subscription_id)
    assert _offer(database, access, subscription_id) is not None
    assert _offer(database, access, subscription_id) is None  # declined (not accepted): not offered again
    assert subscription_state(database, subscription_id).retention_offered_at == NOW
