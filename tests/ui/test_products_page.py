"""The Products page: a new merchant's empty state, creating a product and a price, bad input, archiving."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.enums import PriceInterval
from app.models import Event, Price, Product
from app.services.accounts import create_merchant
from tests.conftest import DEMO_PASSWORD
from tests.ui.conftest import log_in


def _new_merchant(app_env: Path) -> None:
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:
        create_merchant(session=session, business_name="Initech", email="owner@initech.test", password=DEMO_PASSWORD)
    database.dispose()


def _catalog(app_env: Path, name: str) -> tuple[Product, list[Price]]:
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:
        product = session.scalars(select(Product).where(Product.name == name)).one()
        prices = list(session.scalars(select(Price).where(Price.product_id == product.id)))
        session.expunge_all()
    database.dispose()
    return product, prices


def _events(app_env: Path, object_ids: list[str]) -> list[tuple[str, str, str, dict]]:
    """(type, object id, source, previous attributes) of the events about these objects, oldest first."""
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:
        events = session.scalars(select(Event).where(Event.object_id.in_(object_ids)).order_by(Event.created_at))
        found = [(e.type, e.object_id, e.source, e.data.get("previous_attributes", {})) for e in events]
    database.dispose()
    return found


async def test_a_new_merchant_creates_a_product_and_a_price(user: User, app_env: Path) -> None:
    _new_merchant(app_env)
    await log_in(user, email="owner@initech.test", then="/products")
    await user.should_see("No products yet")
    user.find(kind=ui.button, content="Create product").click()
    await user.should_see("New product")
    user.find(marker="field-name").type("Pro plan")
    user.find(marker="dialog-save").click()
    await user.should_see("Product created", retries=30)
    await user.should_see("No prices yet: add one so that customers can subscribe to this product.")

    user.find(kind=ui.button, content="Add price").click()
    await user.should_see("Add a price to Pro plan")
    user.find(marker="field-unit_amount").type("12,5x")
    user.find(marker="dialog-save").click()
    await user.should_see("Enter an amount like 29.00, without a currency sign.", retries=30)
    user.find(marker="field-unit_amount").clear().type("29.90")
    user.find(marker="field-interval").elements.pop().set_value("week")
    user.find(marker="field-interval_count").elements.pop().set_value(2)
    user.find(marker="dialog-save").click()
    await user.should_see("Price added", retries=30)
    await user.should_see("$29.90 every 2 weeks")
    product, prices = _catalog(app_env, "Pro plan")
    assert product.active and [(p.unit_amount, p.currency, p.interval, p.interval_count) for p in prices] == [
        (2990, "USD", PriceInterval.WEEK, 2)
    ]
    assert _events(app_env, [product.id, prices[0].id]) == [
        ("product.created", product.id, "merchant", {}),
        ("price.created", prices[0].id, "merchant", {}),
    ]


async def test_archiving_a_product_archives_its_prices_and_can_be_undone(user: User, app_env: Path) -> None:
    await log_in(user, then="/products")
    await user.should_see("Acme Team")
    product_id = _catalog(app_env, "Acme Team")[0].id
    user.find(marker=f"set-active-{product_id}").click()
    await user.should_see("Archive Acme Team?")
    user.find(kind=ui.button, content="Archive product").click()
    await user.should_see("Product archived", retries=30)
    product, prices = _catalog(app_env, "Acme Team")
    assert not product.active and prices and not any(price.active for price in prices)
    archived = _events(app_env, [product_id, *(price.id for price in prices)])
    assert archived[0] == ("product.updated", product_id, "merchant", {"active": True})
    assert sorted(archived[1:]) == sorted(("price.updated", price.id, "merchant", {"active": True}) for price in prices)
    user.find(marker=f"set-active-{product_id}").click()
    await user.should_see("Product restored: restore the prices you want to offer again", retries=30)
    assert _catalog(app_env, "Acme Team")[0].active
