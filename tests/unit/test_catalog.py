"""Products and prices: creation with validation, archiving, merchant scoping, and prices whose terms never change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.db import Database
from app.enums import PriceInterval
from app.errors import NotFound, ValidationFailed
from app.models import Price, SubscriptionItem
from app.money import parse_money
from app.periods import add_interval
from app.services.catalog import (
    PriceTerms,
    choosable_prices,
    create_price,
    create_product,
    get_price,
    get_product,
    list_catalog,
    update_price,
    update_product,
)
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of


def _new_product(database: Database, merchant: str = "Acme Cloud", name: str = "Widgets") -> tuple[str, str]:
    with database.transaction() as session:
        merchant_id = merchant_id_of(session, merchant)
        product = create_product(session=session, merchant_id=merchant_id, name=name, clock=lambda: DEMO_NOW)
    return merchant_id, product.id


def test_a_product_and_its_price_are_listed_and_choosable(database: Database) -> None:
    merchant_id, product_id = _new_product(database)
    with database.transaction() as session:
        price = create_price(
            session=session,
            merchant_id=merchant_id,
            product_id=product_id,
            terms=PriceTerms(unit_amount=1500, currency="eur", interval="week", interval_count=2, nickname="Fortnight"),
        )
    assert (price.currency, price.interval, price.interval_count, price.active) == ("EUR", PriceInterval.WEEK, 2, True)
    assert price.id.startswith("price_") and not price.in_use
    with database.transaction() as session:
        catalog = list_catalog(session=session, merchant_id=merchant_id)
        widgets = next(product for product in catalog if product.id == product_id)
        assert [p.id for p in widgets.prices] == [price.id]
        assert widgets.prices[0].product_name == "Widgets" and widgets.created_at == DEMO_NOW
        assert price.id in {p.id for p in choosable_prices(session=session, merchant_id=merchant_id)}


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (PriceTerms(unit_amount=-1, currency="USD", interval="month"), "unit_amount"),
        (PriceTerms(unit_amount=100_000_000, currency="USD", interval="month"), "unit_amount"),
        (PriceTerms(unit_amount=True, currency="USD", interval="month"), "unit_amount"),
        (PriceTerms(unit_amount=100, currency="XYZ", interval="month"), "currency"),
        (PriceTerms(unit_amount=100, currency="USD", interval="fortnight"), "interval"),
        (PriceTerms(unit_amount=100, currency="USD", interval="month", interval_count=0), "interval_count"),
        (PriceTerms(unit_amount=100, currency="USD", interval="month", interval_count=13), "interval_count"),
        (PriceTerms(unit_amount=100, currency="USD", interval="day", interval_count=366), "interval_count"),
        (PriceTerms(unit_amount=100, currency="USD", interval="year", nickname="a\nb"), "nickname"),
    ],
)
def test_bad_price_terms_are_refused_by_field(database: Database, terms: PriceTerms, field: str) -> None:
    merchant_id, product_id = _new_product(database)
    with database.transaction() as session, pytest.raises(ValidationFailed) as caught:
        create_price(session=session, merchant_id=merchant_id, product_id=product_id, terms=terms)
    assert list(caught.value.field_errors) == [field]


def test_a_product_needs_a_name(database: Database) -> None:
    with database.transaction() as session, pytest.raises(ValidationFailed) as caught:
        create_product(session=session, merchant_id=merchant_id_of(session, "Acme Cloud"), name="   ")
    assert caught.value.field_errors == {"name": "This field is required."}


def test_archiving_a_product_archives_its_prices_and_keeps_subscriptions(database: Database) -> None:
    with database.transaction() as session:
        merchant_id = merchant_id_of(session, "Acme Cloud")
        item = session.scalars(
            select(SubscriptionItem).join(Price).where(Price.merchant_id == merchant_id).limit(1)
        ).one()
        used_price_id, product_id = item.price_id, item.price.product_id
        assert get_price(session=session, merchant_id=merchant_id, price_id=used_price_id).in_use
    with database.transaction() as session:
        archived = update_product(session=session, merchant_id=merchant_id, product_id=product_id, active=False)
    assert not archived.active and archived.prices and not any(price.active for price in archived.prices)
    with database.transaction() as session:
        assert session.get_one(SubscriptionItem, item.id).price_id == used_price_id
        choosable = {p.id for p in choosable_prices(session=session, merchant_id=merchant_id)}
        assert not choosable & {price.id for price in archived.prices}
        with pytest.raises(ValidationFailed) as caught:
            create_price(
                session=session,
                merchant_id=merchant_id,
                product_id=product_id,
                terms=PriceTerms(unit_amount=100, currency="USD", interval="month"),
            )
        assert "archived" in caught.value.field_errors["product"]
        with pytest.raises(ValidationFailed):
            update_price(session=session, merchant_id=merchant_id, price_id=used_price_id, active=True)
    with database.transaction() as session:
        update_product(session=session, merchant_id=merchant_id, product_id=product_id, active=True)
        restored = update_price(session=session, merchant_id=merchant_id, price_id=used_price_id, active=True)
        assert restored.active and restored.in_use


def test_an_archived_price_is_not_choosable_but_its_product_still_is(database: Database) -> None:
    merchant_id, product_id = _new_product(database)
    with database.transaction() as session:
        terms = PriceTerms(unit_amount=900, currency="USD", interval="month")
        old = create_price(session=session, merchant_id=merchant_id, product_id=product_id, terms=terms)
        new = create_price(
            session=session, merchant_id=merchant_id, product_id=product_id, terms=PriceTerms(1200, "USD", "month")
        )
        update_price(session=session, merchant_id=merchant_id, price_id=old.id, active=False, nickname="Old price")
    with database.transaction() as session:
        choosable = {p.id for p in choosable_prices(session=session, merchant_id=merchant_id)}
        assert new.id in choosable and old.id not in choosable
        product = get_product(session=session, merchant_id=merchant_id, product_id=product_id)
        assert [(p.id, p.active) for p in product.prices] == [(new.id, True), (old.id, False)]
        assert product.prices[1].nickname == "Old price" and product.prices[1].unit_amount == 900


def test_another_merchants_products_and_prices_are_not_found(database: Database) -> None:
    merchant_id, product_id = _new_product(database, "Globex")
    with database.transaction() as session:
        price = create_price(
            session=session, merchant_id=merchant_id, product_id=product_id, terms=PriceTerms(100, "EUR", "year")
        )
        acme = merchant_id_of(session, "Acme Cloud")
        with pytest.raises(NotFound):
            get_product(session=session, merchant_id=acme, product_id=product_id)
        with pytest.raises(NotFound):
            update_product(session=session, merchant_id=acme, product_id=product_id, name="Mine")
        with pytest.raises(NotFound):
            update_price(session=session, merchant_id=acme, price_id=price.id, active=False)
        with pytest.raises(ValidationFailed) as caught:
            create_price(session=session, merchant_id=acme, product_id=product_id, terms=PriceTerms(1, "USD", "day"))
        assert caught.value.field_errors == {"product": "Choose one of your products."}
        assert product_id not in {p.id for p in list_catalog(session=session, merchant_id=acme)}


def test_day_and_week_periods() -> None:
    start = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
    assert add_interval(start, PriceInterval.DAY, 3) == datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    assert add_interval(start, PriceInterval.WEEK, 2) == datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
    assert add_interval(start, PriceInterval.MONTH, 2) == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("29.90", "USD", 2990), ("1,299", "USD", 129900), ("12", "JPY", 12), ("0", "EUR", 0)],
)
def test_parse_money(text: str, currency: str, minor: int) -> None:
    assert parse_money(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"), [("", "USD"), ("-1", "USD"), ("1.234", "USD"), ("1.5", "JPY"), ("1e3", "USD")]
)
def test_parse_money_refuses(text: str, currency: str) -> None:
    assert parse_money(text, currency) is None
