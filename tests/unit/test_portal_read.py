"""What the portal shows: one customer's data, scoped, paged and composed with the merchant's settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.db import Database
from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import (
    Customer,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from app.services.portal import (
    compose_portal_view,
    get_invoice,
    list_invoices,
    load_portal_data,
    load_portal_view,
    merchant_prices,
    sample_invoices,
    sample_portal_data,
)
from app.services.portal_settings import get_portal_settings
from app.views import InvoicePage
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import access_to, set_portal_settings


def test_portal_data_is_the_customers_own(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        data = load_portal_data(session=session, access=access)
        own_invoices = set(
            session.scalars(
                select(Invoice.id).where(
                    Invoice.customer_id == access.customer_id,
                    Invoice.status.in_([InvoiceStatus.OPEN, InvoiceStatus.PAID]),
                )
            )
        )
        own_cards = set(
            session.scalars(select(PaymentMethod.id).where(PaymentMethod.customer_id == access.customer_id))
        )
    assert data.customer.id == access.customer_id
    assert [sub.status for sub in data.subscriptions] == ["past_due"]
    assert {card.id for card in data.payment_methods} == own_cards
    assert {invoice.id for invoice in data.invoices.invoices} <= own_invoices
    assert len(data.invoices.invoices) == min(10, len(own_invoices))
    assert data.invoices.invoices[0].status == "open"  # the newest invoice of a past-due subscription is unpaid
    created = [invoice.created_at for invoice in data.invoices.invoices]
    assert created == sorted(created, reverse=True)
    assert {price.currency for price in data.available_prices} == {"USD"} and len(data.available_prices) == 6


def test_next_invoice_amount_is_none_when_nothing_more_will_be_billed(database: Database) -> None:
    with database.transaction() as session:
        active = load_portal_data(session=session, access=access_to(database)).subscriptions[0]
        pending = load_portal_data(session=session, access=access_to(database, cancel_pending=True)).subscriptions[0]
        canceled_access = access_to(database, status=SubscriptionStatus.CANCELED)
        canceled = load_portal_data(session=session, access=canceled_access).subscriptions[0]
    assert active.next_invoice_amount == active.price.unit_amount * active.quantity
    assert pending.cancel_at_period_end and pending.next_invoice_amount is None
    assert canceled.next_invoice_amount is None and canceled.canceled_at is not None


def test_loading_takes_the_same_number_of_queries_however_much_the_customer_has(database: Database) -> None:
    small, large = access_to(database), access_to(database, skip=1)
    with database.transaction() as session:
        customer = session.get_one(Customer, large.customer_id)
        prices = list(session.scalars(select(Price).where(Price.merchant_id == large.merchant_id)))
        for index, price in enumerate(prices):
            subscription = Subscription(
                merchant_id=large.merchant_id,
                customer_id=customer.id,
                status=SubscriptionStatus.ACTIVE,
                current_period_start=DEMO_NOW,
                current_period_end=DEMO_NOW + timedelta(days=30),
                created_at=DEMO_NOW + timedelta(minutes=index),
            )
            subscription.items.append(SubscriptionItem(price_id=price.id, quantity=2))
            session.add(subscription)
            session.add(PaymentMethod(customer_id=customer.id, brand="visa", last4="4242", exp_month=1, exp_year=2030))

    def count_queries(access) -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(database.engine, "before_cursor_execute", listener)
        try:
            with database.transaction() as session:
                data = load_portal_data(session=session, access=access)
        finally:
            event.remove(database.engine, "before_cursor_execute", listener)
        assert data.subscriptions
        return len(statements)

    assert count_queries(small) == count_queries(large)
    with database.transaction() as session:
        assert len(load_portal_data(session=session, access=large).subscriptions) == len(prices) + 1


def test_invoice_history_pages_and_filters(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        first = list_invoices(session=session, access=access, status=None, page=1, page_size=5)
        pages = [first]
        while pages[-1].has_next:
            pages.append(list_invoices(session=session, access=access, status=None, page=len(pages) + 1, page_size=5))
        open_only = list_invoices(session=session, access=access, status="open", page=1)
        paid_only = list_invoices(session=session, access=access, status="paid", page=1, page_size=100)
    listed = [invoice.id for page in pages for invoice in page.invoices]
    assert len(listed) == len(set(listed)) > 5
    assert [invoice.status for invoice in open_only.invoices] == ["open"] and not open_only.has_next
    assert {invoice.status for invoice in paid_only.invoices} == {"paid"}
    assert len(listed) == len(open_only.invoices) + len(paid_only.invoices)
    assert open_only.status_filter == "open" and first.status_filter is None


@pytest.mark.parametrize(
    ("status", "page", "field"), [("void", 1, "status"), ("draft", 1, "status"), (None, 0, "page")]
)
def test_invoice_history_rejects_bad_filters(database: Database, status: str | None, page: int, field: str) -> None:
    with database.transaction() as session, pytest.raises(ValidationFailed) as error:
        list_invoices(session=session, access=access_to(database), status=status, page=page)
    assert field in error.value.field_errors


def test_invoice_details_have_lines_and_only_the_owner_sees_them(database: Database) -> None:
    access = access_to(database)
    neighbour = access_to(database, skip=1)
    globex = access_to(database, "Globex")
    with database.transaction() as session:
        own_id = list_invoices(session=session, access=access, status="paid", page=1).invoices[0].id
        neighbour_id = list_invoices(session=session, access=neighbour, status=None, page=1).invoices[0].id
        globex_id = list_invoices(session=session, access=globex, status=None, page=1).invoices[0].id
        details = get_invoice(session=session, access=access, invoice_id=own_id)
        for foreign in (neighbour_id, globex_id, "in_doesnotexist"):
            with pytest.raises(NotFound):
                get_invoice(session=session, access=access, invoice_id=foreign)
        # The same customer's void invoices are not shown either.
        void_id = session.scalar(select(Invoice.id).where(Invoice.status == InvoiceStatus.VOID).limit(1))
        void_access = replace(
            access, customer_id=session.get_one(Invoice, void_id).customer_id, merchant_id=access.merchant_id
        )
    assert details.lines and sum(line.amount for line in details.lines) == details.subtotal
    assert details.total == details.subtotal + details.tax and details.status == "paid"
    with database.transaction() as session, pytest.raises(NotFound):
        get_invoice(session=session, access=void_access, invoice_id=void_id)


def test_invoice_history_is_refused_when_switched_off_but_what_is_owed_stays_open(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        paid_id = list_invoices(session=session, access=access, status="paid", page=1).invoices[0].id
        open_id = list_invoices(session=session, access=access, status="open", page=1).invoices[0].id
    set_portal_settings(database, access.merchant_id, invoice_history=False)
    with database.transaction() as session:
        with pytest.raises(Forbidden):
            list_invoices(session=session, access=access, status=None, page=1)
        with pytest.raises(Forbidden):
            get_invoice(session=session, access=access, invoice_id=paid_id)
        assert get_invoice(session=session, access=access, invoice_id=open_id).status == InvoiceStatus.OPEN
        owing = load_portal_data(session=session, access=access)
    past_due = next(item for item in owing.subscriptions if item.status == SubscriptionStatus.PAST_DUE)
    assert past_due.open_invoice is not None and past_due.open_invoice.id == open_id
    assert past_due.amount_owed >= past_due.open_invoice.amount_due > 0


def test_the_next_invoice_shows_what_the_credit_balance_leaves_to_pay(database: Database) -> None:
    access = access_to(database)
    with database.transaction() as session:
        before = load_portal_data(session=session, access=access).subscriptions[0]
        assert before.next_invoice_amount
        customer = session.get_one(Customer, access.customer_id)
        customer.credit_balance, customer.credit_currency = before.next_invoice_amount - 100, before.price.currency
    with database.transaction() as session:
        after = load_portal_data(session=session, access=access).subscriptions[0]
        assert after.next_invoice_amount == 100
        customer = session.get_one(Customer, access.customer_id)
        customer.credit_balance = before.next_invoice_amount + 5_000
    with database.transaction() as session:
        assert load_portal_data(session=session, access=access).subscriptions[0].next_invoice_amount == 0
        customer = session.get_one(Customer, access.customer_id)
        customer.credit_currency = "JPY" if before.price.currency != "JPY" else "USD"  # another currency: not used
    with database.transaction() as session:
        assert load_portal_data(session=session, access=access).subscriptions[0].next_invoice_amount == (
            before.next_invoice_amount
        )


def test_another_merchants_customer_is_not_found(database: Database) -> None:
    globex = access_to(database, "Globex")
    acme = access_to(database)
    with database.transaction() as session, pytest.raises(NotFound):
        load_portal_data(session=session, access=replace(acme, customer_id=globex.customer_id))


def test_portal_view_uses_saved_settings_locale_and_return_url(database: Database) -> None:
    access = access_to(database)
    set_portal_settings(database, access.merchant_id, brand_color="#112233", default_return_url="https://acme.test/a")
    with database.transaction() as session:
        session.get_one(Customer, access.customer_id).locale = "de_DE"
    with database.transaction() as session:
        view = load_portal_view(session=session, access=access, accept_language="fr-FR,fr;q=0.9")
        switched = load_portal_view(session=session, access=access, locale="zh_Hans_CN")
        unknown = load_portal_view(session=session, access=access, locale="xx_YY")
        with_link_url = load_portal_view(session=session, access=replace(access, return_url="https://shop.test/back"))
    assert view.settings.brand_color == "#112233" and view.business_name == "Acme Cloud"
    assert view.locale == "de_DE" and switched.locale == "zh_Hans_CN" and unknown.locale == "de_DE"
    assert view.time_zone == "America/New_York"
    assert view.return_url == "https://acme.test/a" and with_link_url.return_url == "https://shop.test/back"
    assert view.icon_src is None and not view.is_preview


def test_browser_language_is_used_when_the_customer_has_none(database: Database) -> None:
    access = access_to(database)
    set_portal_settings(database, access.merchant_id, default_return_url="")
    with database.transaction() as session:
        session.get_one(Customer, access.customer_id).locale = ""
    with database.transaction() as session:
        french = load_portal_view(session=session, access=access, accept_language="es;q=0.9, fr-CA;q=0.8")
        fallback = load_portal_view(session=session, access=access, accept_language="es, it")
    assert french.locale == "fr_CA" and fallback.locale == "en_US"
    assert french.return_url is None


def test_compose_offers_only_the_prices_customers_may_switch_to(database: Database) -> None:
    access = access_to(database)
    with database.transaction() as session:
        settings = get_portal_settings(session=session, merchant_id=access.merchant_id)
        prices = merchant_prices(session=session, merchant_id=access.merchant_id)
    data = sample_portal_data(now=DEMO_NOW, prices=prices)
    arguments = {
        "business_name": "Acme Cloud",
        "data": data,
        "locale": "en_US",
        "time_zone": "UTC",
        "return_url": "",
        "icon_src": None,
        "logo_src": None,
        "is_preview": True,
    }
    narrowed = replace(settings, switchable_price_ids=(prices[0].id, prices[3].id))
    view = compose_portal_view(settings=narrowed, **arguments)
    assert [price.id for price in view.data.available_prices] == [prices[0].id, prices[3].id]
    assert (
        compose_portal_view(settings=replace(narrowed, plan_switching=False), **arguments).data.available_prices == ()
    )
    assert view.is_preview and view.return_url is None and view.data.customer == data.customer


def test_sample_customer_is_complete_and_deterministic() -> None:
    data = sample_portal_data(now=DEMO_NOW)
    assert data == sample_portal_data(now=DEMO_NOW)
    assert data.customer.name == "Jenny Rosen" and not data.customer.address.is_empty
    assert [sub.id for sub in data.subscriptions] == ["sub_sample1", "sub_sample2", "sub_sample3"]
    assert [sub.cancel_at_period_end for sub in data.subscriptions] == [False, True, False]
    assert data.subscriptions[2].status.is_ended  # shows Resubscribe when the merchant allows it
    assert [card.is_default for card in data.payment_methods] == [True, False]
    assert len(data.invoices.invoices) == 10 and data.invoices.has_next
    everything = sample_invoices(now=DEMO_NOW)
    assert len(everything) == 12 and [invoice.status for invoice in everything].count("open") == 1
    second = InvoicePage.of_list(everything, status=None, page=2)
    assert len(second.invoices) == 2 and not second.has_next
    assert InvoicePage.of_list(everything, status="open", page=1).invoices == (everything[0],)
    assert all(invoice.lines for invoice in everything)
    assert {price.currency for price in sample_portal_data(now=DEMO_NOW, currency="EUR").available_prices} == {"EUR"}
