"""Cancelling, keeping and switching subscriptions from the portal: effects, events, refusals, proration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.enums import PriceInterval
from app.errors import Forbidden, NotFound, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import (
    CancelMode,
    Event,
    EventSource,
    Invoice,
    Merchant,
    Price,
    Subscription,
    SubscriptionStatus,
)
from app.periods import add_interval, prorate
from app.services.billing import advance
from app.services.portal import (
    cancel_subscription,
    change_plan,
    list_invoices,
    preview_plan_change,
    undo_cancellation,
)
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import ACTOR, access_to, set_portal_settings


def _clock() -> datetime:
    return DEMO_NOW


def _subscription_id(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return session.scalars(select(Subscription.id).where(Subscription.customer_id == access.customer_id)).one()


def _events(database: Database, object_id: str) -> list[Event]:
    with database.transaction() as session:
        return list(session.scalars(select(Event).where(Event.object_id == object_id).order_by(Event.created_at)))


def _snapshot(database: Database, subscription_id: str) -> tuple:
    with database.transaction() as session:
        sub = session.get_one(Subscription, subscription_id)
        return (sub.status, sub.cancel_at_period_end, sub.canceled_at, sub.items[0].price_id, sub.items[0].quantity)


def _cancel(database: Database, access: PortalAccess, subscription_id: str, **kwargs: str):
    with database.transaction() as session:
        return cancel_subscription(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=_clock, **kwargs
        )


def _undo(database: Database, access: PortalAccess, subscription_id: str):
    with database.transaction() as session:
        return undo_cancellation(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=_clock
        )


def test_cancel_at_period_end_keeps_access_and_applies_once(database: Database) -> None:
    access = access_to(database)
    sub_id = _subscription_id(database, access)
    view = _cancel(database, access, sub_id, reason="too_expensive", comment="  Budget cuts  ")
    again = _cancel(database, access, sub_id, reason="other")
    assert view.status == "active" and view.cancel_at_period_end and view.canceled_at == DEMO_NOW
    assert view.next_invoice_amount is None and again == view
    with database.transaction() as session:
        row = session.get_one(Subscription, sub_id)
        assert (row.cancellation_reason, row.cancellation_comment, row.ended_at) == (
            "too_expensive",
            "Budget cuts",
            None,
        )
    [event] = _events(database, sub_id)
    assert event.type == "customer.subscription.updated" and event.data["object"]["cancel_at_period_end"] is True
    assert event.data["object"]["cancellation_details"] == {"reason": "too_expensive", "comment": "Budget cuts"}
    assert set(event.data["previous_attributes"]) == {"cancel_at_period_end", "canceled_at", "cancellation_details"}
    assert (event.source, event.portal_link_id, event.ip_address, event.user_agent) == (
        EventSource.PORTAL,
        "pl_test",
        "203.0.113.9",
        "pytest-agent",
    )
    assert event.customer_id == access.customer_id and event.created_at == DEMO_NOW


def test_undo_keeps_the_subscription_once(database: Database) -> None:
    access = access_to(database, cancel_pending=True)
    sub_id = _subscription_id(database, access)
    view = _undo(database, access, sub_id)
    assert not view.cancel_at_period_end and view.canceled_at is None and view.next_invoice_amount
    assert _undo(database, access, sub_id) == view
    assert [event.type for event in _events(database, sub_id)] == ["customer.subscription.updated"]


def test_cancel_immediately_ends_the_subscription_now(database: Database) -> None:
    access = access_to(database, cancel_pending=True)
    set_portal_settings(database, access.merchant_id, cancel_mode=CancelMode.IMMEDIATELY)
    sub_id = _subscription_id(database, access)
    view = _cancel(database, access, sub_id)
    assert (view.status, view.cancel_at_period_end, view.canceled_at, view.next_invoice_amount) == (
        "canceled",
        False,
        DEMO_NOW,
        None,
    )
    assert _cancel(database, access, sub_id) == view
    with database.transaction() as session:
        assert session.get_one(Subscription, sub_id).ended_at == DEMO_NOW
    assert [event.type for event in _events(database, sub_id)] == ["customer.subscription.deleted"]
    with pytest.raises(ValidationFailed):
        _undo(database, access, sub_id)


def test_bad_reason_changes_nothing_and_disabled_reasons_are_not_kept(database: Database) -> None:
    access = access_to(database)
    sub_id = _subscription_id(database, access)
    before = _snapshot(database, sub_id)
    with pytest.raises(ValidationFailed) as error:
        _cancel(database, access, sub_id, reason="bored")
    with pytest.raises(ValidationFailed) as long_comment:
        _cancel(database, access, sub_id, reason="other", comment="x" * 501)
    assert "reason" in error.value.field_errors and "comment" in long_comment.value.field_errors
    assert _snapshot(database, sub_id) == before and _events(database, sub_id) == []
    set_portal_settings(database, access.merchant_id, cancellation_reasons=False)
    _cancel(database, access, sub_id, reason="bored", comment="ignored")
    with database.transaction() as session:
        row = session.get_one(Subscription, sub_id)
        assert row.cancel_at_period_end and (row.cancellation_reason, row.cancellation_comment) == ("", "")


def test_cancelling_is_refused_when_switched_off(database: Database) -> None:
    access = access_to(database, cancel_pending=True)
    sub_id = _subscription_id(database, access)
    before = _snapshot(database, sub_id)
    set_portal_settings(database, access.merchant_id, cancel_subscriptions=False)
    with pytest.raises(Forbidden):
        _cancel(database, access, sub_id)
    with pytest.raises(Forbidden):
        _undo(database, access, sub_id)
    assert _snapshot(database, sub_id) == before and _events(database, sub_id) == []


@pytest.mark.parametrize("owner", ["neighbour", "globex"])
def test_another_customers_subscription_is_not_found_and_unchanged(database: Database, owner: str) -> None:
    access = access_to(database)
    other = access_to(database, skip=1) if owner == "neighbour" else access_to(database, "Globex")
    sub_id = _subscription_id(database, other)
    before = _snapshot(database, sub_id)
    with database.transaction() as session:
        price_id = session.scalars(select(Price.id).where(Price.merchant_id == access.merchant_id)).first()
    assert price_id is not None
    with pytest.raises(NotFound):
        _cancel(database, access, sub_id)
    with pytest.raises(NotFound):
        _undo(database, access, sub_id)
    with database.transaction() as session, pytest.raises(NotFound):
        change_plan(
            session=session,
            access=access,
            subscription_id=sub_id,
            price_id=price_id,
            quantity=2,
            actor=ACTOR,
            clock=_clock,
        )
    assert _snapshot(database, sub_id) == before and _events(database, sub_id) == []


# --- Plan switching ---------------------------------------------------------------------------------------------


def _prices(database: Database, merchant_id: str) -> dict[str, Price]:
    with database.transaction() as session:
        return {
            price.nickname: price for price in session.scalars(select(Price).where(Price.merchant_id == merchant_id))
        }


def _on_plan(database: Database, access: PortalAccess, price: Price, quantity: int, days_used: int = 10) -> str:
    """Put the customer's subscription on `price` × `quantity`, `days_used` days into a 30-day period."""
    sub_id = _subscription_id(database, access)
    with database.transaction() as session:
        sub = session.get_one(Subscription, sub_id)
        sub.current_period_start = DEMO_NOW - timedelta(days=days_used)
        sub.current_period_end = sub.current_period_start + timedelta(days=30)
        sub.items[0].price_id, sub.items[0].quantity = price.id, quantity
    return sub_id


def _change(database: Database, access: PortalAccess, sub_id: str, price_id: str, quantity: int):
    with database.transaction() as session:
        return change_plan(
            session=session,
            access=access,
            subscription_id=sub_id,
            price_id=price_id,
            quantity=quantity,
            actor=ACTOR,
            clock=_clock,
        )


def _preview(database: Database, access: PortalAccess, sub_id: str, price_id: str, quantity: int):
    with database.transaction() as session:
        return preview_plan_change(
            session=session, access=access, subscription_id=sub_id, price_id=price_id, quantity=quantity, clock=_clock
        )


def test_prorate_rounds_half_up_in_minor_units() -> None:
    month = timedelta(days=30)
    assert prorate(2900, timedelta(days=20), month) == 1933  # 1933.33
    assert prorate(1, timedelta(days=15), month) == 1  # 0.5 rounds up
    assert prorate(3, timedelta(days=10), month) == 1  # 1.0
    assert prorate(9900, timedelta(days=-1), month) == 0 and prorate(9900, month * 2, month) == 9900


def test_add_interval_clamps_to_the_end_of_the_month() -> None:
    assert add_interval(datetime(2027, 1, 31, tzinfo=UTC), PriceInterval.MONTH) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_interval(datetime(2028, 2, 29, tzinfo=UTC), PriceInterval.YEAR) == datetime(2029, 2, 28, tzinfo=UTC)
    assert add_interval(datetime(2026, 12, 15, tzinfo=UTC), "month", 2) == datetime(2027, 2, 15, tzinfo=UTC)


def test_upgrade_in_the_same_interval_prorates_the_rest_of_the_period(database: Database) -> None:
    access = access_to(database)
    prices = _prices(database, access.merchant_id)
    sub_id = _on_plan(database, access, prices["Team monthly"], 1)
    with database.transaction() as session:
        merchant_before = session.get_one(Merchant, access.merchant_id).next_invoice_number
    preview = _preview(database, access, sub_id, prices["Business monthly"].id, 2)
    # 20 of 30 days left: credit 2900 × 2/3, charge 2 × 9900 × 2/3.
    assert (preview.credit, preview.charge, preview.amount_due_now) == (1933, 13200, 11267)
    assert preview.next_renewal == DEMO_NOW + timedelta(days=20) and preview.next_renewal_amount == 19800
    assert _snapshot(database, sub_id)[3:] == (prices["Team monthly"].id, 1)  # a preview changes nothing

    view = _change(database, access, sub_id, prices["Business monthly"].id, 2)
    assert (view.price.id, view.quantity, view.current_period_end) == (
        prices["Business monthly"].id,
        2,
        preview.next_renewal,
    )
    assert _change(database, access, sub_id, prices["Business monthly"].id, 2) == view  # a double click
    with database.transaction() as session:
        [invoice] = session.scalars(select(Invoice).where(Invoice.billing_reason == "subscription_update")).all()
        merchant = session.get_one(Merchant, access.merchant_id)
        assert invoice.number == f"ACME-{merchant_before:05d}" and merchant.next_invoice_number == merchant_before + 1
        assert (invoice.status, invoice.total, invoice.amount_due) == ("open", 11267, 11267)
        assert [(line.amount, line.proration) for line in invoice.lines] == [(-1933, True), (13200, True)]
        assert invoice.customer_id == access.customer_id
    [event] = _events(database, sub_id)
    assert event.type == "customer.subscription.updated" and event.source == EventSource.PORTAL
    [previous_item] = event.data["previous_attributes"]["items"]
    assert (previous_item["price"]["id"], previous_item["quantity"]) == (prices["Team monthly"].id, 1)
    [item] = event.data["object"]["items"]
    assert (item["price"]["id"], item["quantity"]) == (prices["Business monthly"].id, 2)
    [created] = _events(database, invoice.id)
    assert created.type == "invoice.created" and created.data["object"]["amount_due"] == 11267


def test_switching_to_yearly_restarts_the_period_and_charges_the_full_year(database: Database) -> None:
    access = access_to(database)
    prices = _prices(database, access.merchant_id)
    sub_id = _on_plan(database, access, prices["Starter monthly"], 1, days_used=15)
    preview = _preview(database, access, sub_id, prices["Starter yearly"].id, 1)
    assert (preview.credit, preview.charge, preview.amount_due_now) == (450, 9000, 8550)
    assert preview.next_renewal == datetime(2027, 11, 26, 12, 0, tzinfo=UTC)
    view = _change(database, access, sub_id, prices["Starter yearly"].id, 1)
    assert view.current_period_start == DEMO_NOW and view.current_period_end == preview.next_renewal


def test_downgrade_credit_is_taken_off_the_next_renewal_invoice(
    database: Database, test_gateway: PaymentGateway
) -> None:
    access = access_to(database)
    prices = _prices(database, access.merchant_id)
    sub_id = _on_plan(database, access, prices["Business monthly"], 1)
    preview = _preview(database, access, sub_id, prices["Team monthly"].id, 3)
    # 20 of 30 days left: credit 9900 × 2/3 = 6600, charge 3 × 2900 × 2/3 = 5800.
    assert (preview.credit, preview.charge, preview.amount_due_now, preview.next_invoice_credit) == (6600, 5800, 0, 800)
    _change(database, access, sub_id, prices["Team monthly"].id, 3)
    with database.transaction() as session:
        draft = session.scalars(select(Invoice).where(Invoice.billing_reason == "subscription_update")).one()
        assert (draft.status, draft.total, draft.amount_due) == ("draft", -800, 0)
        assert (
            list_invoices(session=session, access=access, status=None, page=1, page_size=100).invoices[0].id != draft.id
        )
    advance(database=database, now=preview.next_renewal + timedelta(minutes=1), gateway=test_gateway)
    with database.transaction() as session:
        renewal = session.scalars(
            select(Invoice)
            .where(Invoice.subscription_id == sub_id, Invoice.billing_reason == "subscription_cycle")
            .order_by(Invoice.created_at.desc())
            .limit(1)
        ).one()
        assert renewal.total == 8700 - 800 and renewal.status == "paid"
        assert session.get(Invoice, draft.id) is None


def test_plan_change_refusals_change_nothing(database: Database) -> None:
    access = access_to(database)
    prices = _prices(database, access.merchant_id)
    sub_id = _on_plan(database, access, prices["Team monthly"], 1)
    globex_price = next(iter(_prices(database, access_to(database, "Globex").merchant_id).values()))
    before = _snapshot(database, sub_id)
    for price_id, quantity, field in (
        (globex_price.id, 1, "price_id"),
        ("price_unknown", 1, "price_id"),
        (prices["Team yearly"].id, 0, "quantity"),
        (prices["Team monthly"].id, 1, "price_id"),  # the current plan
    ):
        with pytest.raises(ValidationFailed) as error:
            _preview(database, access, sub_id, price_id, quantity)
        assert field in error.value.field_errors
    set_portal_settings(database, access.merchant_id, switchable_price_ids=[prices["Starter monthly"].id])
    with pytest.raises(ValidationFailed):
        _change(database, access, sub_id, prices["Business monthly"].id, 1)
    set_portal_settings(database, access.merchant_id, plan_switching=False)
    with pytest.raises(Forbidden):
        _preview(database, access, sub_id, prices["Starter monthly"].id, 1)
    with pytest.raises(Forbidden):
        _change(database, access, sub_id, prices["Starter monthly"].id, 1)
    assert _snapshot(database, sub_id) == before and _events(database, sub_id) == []
    with database.transaction() as session:
        assert not session.scalar(select(func.count()).where(Invoice.billing_reason == "subscription_update"))


def test_only_active_subscriptions_change_plans(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    prices = _prices(database, access.merchant_id)
    sub_id = _subscription_id(database, access)
    with pytest.raises(ValidationFailed) as error:
        _preview(database, access, sub_id, prices["Business yearly"].id, 1)
    assert "subscription" in error.value.field_errors
    trial = access_to(database, status=SubscriptionStatus.TRIALING)
    trial_sub = _subscription_id(database, trial)
    preview = _preview(database, trial, trial_sub, prices["Business yearly"].id, 1)
    assert (preview.credit, preview.charge, preview.amount_due_now) == (0, 0, 0)
