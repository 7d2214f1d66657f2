"""Subscriptions the merchant starts, changes and cancels: trial, first charge (paid, declined, no card), proration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import Database
from app.enums import EventSource, EventType, InvoiceStatus, PriceInterval, SubscriptionStatus
from app.errors import Conflict, NotFound, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import Event, Invoice, PaymentMethod, Price
from app.services.customer_records import create_customer
from app.services.events import Actor
from app.services.payments import pay_invoice
from app.services.portal_links import PortalAccess
from app.services.subscription_records import (
    cancel_subscription_now,
    get_subscription,
    list_subscription_objects,
    start_subscription,
    update_subscription,
)
from app.views.inputs import CustomerInput, SubscriptionInput, SubscriptionItemInput
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import ACTOR, merchant_id_of, set_portal_settings

API = Actor(source=EventSource.API)


def _clock():
    return DEMO_NOW


def _prices(database: Database, merchant_id: str) -> dict[str, str]:
    with database.transaction() as session:
        return {p.nickname: p.id for p in session.scalars(select(Price).where(Price.merchant_id == merchant_id))}


def _customer(database: Database, *, card: str | None = None) -> tuple[str, str]:
    """A new Acme customer, with a default card ending in `card` (the test gateway decides by its last 4)."""
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        customer = create_customer(
            session=session, merchant_id=acme, details=CustomerInput(email="sub@example.com"), actor=API, clock=_clock
        )
        if card:
            session.add(
                PaymentMethod(
                    customer_id=customer.id, brand="visa", last4=card, exp_month=12, exp_year=2030, is_default=True
                )
            )
    return acme, customer.id


def _start(database: Database, gateway: PaymentGateway, merchant_id: str, customer_id: str, *items, **options):
    details = SubscriptionInput(
        customer_id=customer_id, items=tuple(SubscriptionItemInput(*item) for item in items), **options
    )
    return start_subscription(
        database=database, merchant_id=merchant_id, subscription=details, gateway=gateway, actor=API, clock=_clock
    )


def _invoices(database: Database, subscription_id: str) -> list[Invoice]:
    with database.transaction() as session:
        return list(session.scalars(select(Invoice).where(Invoice.subscription_id == subscription_id)))


def _event_types(database: Database, customer_id: str) -> list[str]:
    with database.transaction() as session:
        return list(
            session.scalars(select(Event.type).where(Event.customer_id == customer_id).order_by(Event.created_at))
        )


def test_a_subscription_whose_first_charge_succeeds_is_active_with_a_paid_invoice(
    database: Database, test_gateway: PaymentGateway
) -> None:
    acme, customer = _customer(database, card="4242")
    team = _prices(database, acme)["Team monthly"]
    started = _start(database, test_gateway, acme, customer, (team, 2))
    assert (started.status, started.items[0].quantity) == (SubscriptionStatus.ACTIVE, 2)
    assert started.current_period_end == DEMO_NOW.replace(month=12)  # one calendar month
    [invoice] = _invoices(database, started.id)
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        InvoiceStatus.PAID,
        5800,
        "subscription_create",
    )
    assert _event_types(database, customer) == [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.paid",
        "customer.subscription.updated",
    ]


@pytest.mark.parametrize("card", [None, "0341", "0002"])
def test_without_a_card_or_with_a_declined_one_it_is_incomplete_with_an_open_invoice_the_customer_can_pay(
    database: Database, test_gateway: PaymentGateway, card: str | None
) -> None:
    acme, customer = _customer(database, card=card)
    started = _start(database, test_gateway, acme, customer, (_prices(database, acme)["Starter monthly"], 1))
    assert started.status == SubscriptionStatus.INCOMPLETE
    [invoice] = _invoices(database, started.id)
    assert (invoice.status, invoice.amount_due, invoice.next_payment_attempt) == (InvoiceStatus.OPEN, 900, None)
    if card:
        assert invoice.last_payment_error
        assert EventType.INVOICE_PAYMENT_FAILED in _event_types(database, customer)
    # The customer pays it in the portal with a good card: the subscription starts.
    with database.transaction() as session:
        for method in session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer)):
            method.last4 = "4242"
        if card is None:
            session.add(
                PaymentMethod(
                    customer_id=customer, brand="visa", last4="4242", exp_month=1, exp_year=2031, is_default=True
                )
            )
    access = PortalAccess(link_id="pl_test", merchant_id=acme, customer_id=customer, return_url="")
    pay_invoice(
        database=database, access=access, invoice_id=invoice.id, gateway=test_gateway, actor=ACTOR, clock=_clock
    )
    with database.transaction() as session:
        assert get_subscription(session=session, merchant_id=acme, subscription_id=started.id).status == "active"


def test_a_trial_starts_trialing_without_an_invoice(database: Database, test_gateway: PaymentGateway) -> None:
    acme, customer = _customer(database)
    starter = _prices(database, acme)["Starter monthly"]
    by_days = _start(database, test_gateway, acme, customer, (starter, 1), trial_period_days=14)
    by_end = _start(
        database,
        test_gateway,
        acme,
        customer,
        (starter, 1),
        trial_end=DEMO_NOW + timedelta(days=3),
        cancel_at_period_end=True,
    )
    assert (by_days.status, by_days.trial_end, by_days.current_period_end) == (
        SubscriptionStatus.TRIALING,
        DEMO_NOW + timedelta(days=14),
        DEMO_NOW + timedelta(days=14),
    )
    assert (by_end.trial_end, by_end.cancel_at_period_end) == (DEMO_NOW + timedelta(days=3), True)
    assert _invoices(database, by_days.id) == []


def test_several_items_bill_together(database: Database, test_gateway: PaymentGateway) -> None:
    acme, customer = _customer(database, card="4242")
    prices = _prices(database, acme)
    started = _start(
        database, test_gateway, acme, customer, (prices["Starter monthly"], 1), (prices["Team monthly"], 3)
    )
    [invoice] = _invoices(database, started.id)
    assert (len(started.items), invoice.total) == (2, 900 + 3 * 2900)


def test_bad_subscriptions_are_refused_and_nothing_is_written(database: Database, test_gateway: PaymentGateway) -> None:
    acme, customer = _customer(database)
    prices = _prices(database, acme)
    with database.transaction() as session:
        globex = merchant_id_of(session, "Globex")
        euro = Price(
            merchant_id=acme,
            product_id=session.get_one(Price, prices["Team monthly"]).product_id,
            unit_amount=100,
            currency="EUR",
            interval=PriceInterval.MONTH,
        )
        session.add(euro)
        session.flush()
        euro_id = euro.id
        globex_price = session.scalars(select(Price.id).where(Price.merchant_id == globex).limit(1)).one()
        session.get_one(Price, prices["Business monthly"]).active = False
    starter, yearly = prices["Starter monthly"], prices["Starter yearly"]
    cases = [
        ([(starter, 1), (euro_id, 1)], {}, "items[1].price"),
        ([(starter, 1), (yearly, 1)], {}, "items[1].price"),
        ([(starter, 0)], {}, "items[0].quantity"),
        ([(starter, 1001)], {}, "items[0].quantity"),
        ([(globex_price, 1)], {}, "items[0].price"),
        ([(prices["Business monthly"], 1)], {}, "items[0].price"),
        ([(starter, 1), (starter, 2)], {}, "items[1].price"),
        ([], {}, "items"),
        ([(starter, 1)], {"trial_period_days": 0}, "trial_period_days"),
        ([(starter, 1)], {"trial_end": DEMO_NOW - timedelta(days=1)}, "trial_end"),
        ([(starter, 1)], {"trial_end": DEMO_NOW + timedelta(days=1), "trial_period_days": 3}, "trial_end"),
    ]
    for items, options, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            _start(database, test_gateway, acme, customer, *items, **options)
        assert field in refused.value.field_errors, (items, options)
    with pytest.raises(NotFound):
        _start(database, test_gateway, globex, customer, (starter, 1))
    with database.transaction() as session:
        assert list_subscription_objects(session=session, merchant_id=acme, customer_id=customer).data == ()


def test_a_plan_change_is_prorated_as_in_the_portal(database: Database, test_gateway: PaymentGateway) -> None:
    acme, customer = _customer(database, card="4242")
    prices = _prices(database, acme)
    started = _start(database, test_gateway, acme, customer, (prices["Starter monthly"], 1))
    later = DEMO_NOW + (started.current_period_end - DEMO_NOW) / 2  # half the period left
    with database.transaction() as session:
        changed = update_subscription(
            session=session,
            merchant_id=acme,
            subscription_id=started.id,
            price_id=prices["Team monthly"],
            quantity=2,
            actor=API,
            clock=lambda: later,
        )
    assert (changed.items[0].price.id, changed.items[0].quantity) == (prices["Team monthly"], 2)
    proration = next(i for i in _invoices(database, started.id) if i.billing_reason == "subscription_update")
    assert (proration.status, proration.amount_due) == (InvoiceStatus.OPEN, (5800 - 900) // 2)
    assert _event_types(database, customer)[-2:] == ["customer.subscription.updated", "invoice.created"]


def test_downgrades_wait_for_the_period_end_when_the_merchant_says_so(
    database: Database, test_gateway: PaymentGateway
) -> None:
    acme, customer = _customer(database, card="4242")
    prices = _prices(database, acme)
    started = _start(database, test_gateway, acme, customer, (prices["Team monthly"], 2))
    set_portal_settings(database, acme, downgrades_at_period_end=True)
    with database.transaction() as session:
        changed = update_subscription(
            session=session, merchant_id=acme, subscription_id=started.id, quantity=1, actor=API, clock=_clock
        )
    assert changed.items[0].quantity == 2
    assert changed.scheduled_change is not None and changed.scheduled_change.quantity == 1


def test_cancel_at_period_end_and_back_then_cancel_now(database: Database, test_gateway: PaymentGateway) -> None:
    acme, customer = _customer(database, card="4242")
    started = _start(database, test_gateway, acme, customer, (_prices(database, acme)["Starter monthly"], 1))
    with database.transaction() as session:
        arguments = {
            "session": session,
            "merchant_id": acme,
            "subscription_id": started.id,
            "actor": API,
            "clock": _clock,
        }
        pending = update_subscription(**arguments, cancel_at_period_end=True)
        again = update_subscription(**arguments, cancel_at_period_end=True)
        kept = update_subscription(**arguments, cancel_at_period_end=False)
        ended = cancel_subscription_now(**arguments)
        ended_twice = cancel_subscription_now(**arguments)
        with pytest.raises(Conflict):
            update_subscription(**arguments, quantity=3)
    assert (pending.cancel_at_period_end, pending.canceled_at, again) == (True, DEMO_NOW, pending)
    assert (kept.cancel_at_period_end, kept.canceled_at) == (False, None)
    assert (ended.status, ended.ended_at, ended_twice) == (SubscriptionStatus.CANCELED, DEMO_NOW, ended)
    types = _event_types(database, customer)
    assert types.count("customer.subscription.updated") == 3  # activated, pending, kept
    assert types[-1] == "customer.subscription.deleted"


def test_lists_filter_by_customer_and_status_and_page(database: Database, test_gateway: PaymentGateway) -> None:
    acme, customer = _customer(database)
    starter = _prices(database, acme)["Starter monthly"]
    ids = [_start(database, test_gateway, acme, customer, (starter, 1), trial_period_days=n + 1).id for n in range(3)]
    with database.transaction() as session:
        first = list_subscription_objects(session=session, merchant_id=acme, customer_id=customer, limit=2)
        second = list_subscription_objects(
            session=session, merchant_id=acme, customer_id=customer, limit=2, starting_after=first.data[-1].id
        )
        trialing = list_subscription_objects(
            session=session, merchant_id=acme, status=SubscriptionStatus.TRIALING, limit=100
        )
    assert [s.id for s in (*first.data, *second.data)] == sorted(ids, reverse=True)  # one moment: by id
    assert (first.has_more, second.has_more) == (True, False)
    assert set(ids) <= {s.id for s in trialing.data} and {s.status for s in trialing.data} == {"trialing"}
