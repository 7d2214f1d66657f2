"""A plan's quantity is a whole number: 1.7 (which a client can send over the websocket) is refused, not cut to 1."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.enums import SubscriptionStatus
from app.errors import ValidationFailed
from app.models import SubscriptionItem
from app.services.portal import change_plan, preview_plan_change
from tests.conftest import DEMO_NOW
from tests.hardening.support import snapshot
from tests.ui.portal_setup import customer_with, link_path, subscription_of
from tests.unit.portal_support import ACTOR, access_to


def plan_of(database: Database, subscription_id: str) -> tuple[str, int]:
    with database.transaction() as session:
        item = session.scalars(
            select(SubscriptionItem).where(SubscriptionItem.subscription_id == subscription_id)
        ).one()
        return item.price_id, item.quantity


@pytest.mark.parametrize("quantity", [1.7, 2.0, True, "2"])
def test_a_quantity_that_is_not_an_integer_is_refused(database: Database, quantity: object) -> None:
    access = access_to(database)
    subscription = subscription_of(database, access.customer_id)
    price_id, _ = plan_of(database, subscription.id)
    before = snapshot(database)
    for change in (preview_plan_change, change_plan):
        extra = {"actor": ACTOR} if change is change_plan else {}
        with pytest.raises(ValidationFailed) as refused, database.transaction() as session:
            change(  # type: ignore[operator]
                session=session,
                access=access,
                subscription_id=subscription.id,
                price_id=price_id,
                quantity=quantity,
                clock=lambda: DEMO_NOW,
                **extra,
            )
        assert "quantity" in refused.value.field_errors
    assert snapshot(database) == before


async def test_the_portal_does_not_cut_a_sent_fraction_to_a_whole_number(
    user: User, app_database: Database, settings: Settings
) -> None:
    customer_id = customer_with(app_database, SubscriptionStatus.ACTIVE)
    subscription_id = subscription_of(app_database, customer_id).id
    before = plan_of(app_database, subscription_id)
    await user.open(link_path(app_database, settings, customer_id))
    user.find(kind=ui.button, content="Update subscription").click()
    (quantity,) = user.find(kind=ui.number, content="Quantity").elements
    with user:
        quantity.value = 1.7  # what a crafted websocket message can set; the browser's field would round
    await user.should_see("Choose a quantity between 1 and 1000.", retries=30)
    user.find(kind=ui.button, content="Confirm change").click()
    assert plan_of(app_database, subscription_id) == before
