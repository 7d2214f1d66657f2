"""The Billing settings page: the merchant chooses what happens after the last failed payment retry."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.models import FailedPaymentAction, Merchant, PortalSettings
from tests.ui.conftest import log_in


async def test_the_failed_payment_action_is_saved(user: User, database: Database) -> None:
    await log_in(user, then="/settings/billing")
    await user.should_see("charged again 1, 3 and 5 days after the previous attempt")
    await user.should_see("BILLING_CLOCK_INTERVAL_SECONDS=0")

    [choice] = user.find(kind=ui.radio).elements
    assert choice.value == "mark_unpaid"
    choice.set_value("cancel")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")

    with database.transaction() as session:
        acme = session.scalars(select(Merchant.id).where(Merchant.invoice_prefix == "ACME")).one()
        assert session.get_one(PortalSettings, acme).failed_payment_action == FailedPaymentAction.CANCEL
