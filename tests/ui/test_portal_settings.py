"""Customer portal settings: the live preview follows the draft, nothing is saved until Save, conflicts are caught."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.models import Customer, Merchant
from app.services.portal_links import issue_link
from app.services.portal_preview import issue_preview_token
from app.services.portal_settings import get_portal_settings, save_portal_settings
from app.views import PortalSettingsView
from components.settings import PREVIEW_MARKER
from tests.conftest import DEMO_NOW
from tests.ui.conftest import log_in
from tests.ui.eventually import rebuilt

PAGE = "/settings/portal"


def acme_id(database: Database) -> str:
    with database.transaction() as session:
        return session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Acme Cloud")).one()


def stored(database: Database) -> PortalSettingsView:
    with database.transaction() as session:
        return get_portal_settings(session=session, merchant_id=acme_id(database))


def button(user: User, label: str) -> ui.button:
    (found,) = user.find(kind=ui.button, content=label).elements
    return found


def input_named(user: User, label: str) -> ui.input:
    (found,) = user.find(kind=ui.input, content=label).elements
    return found


@pytest.mark.parametrize(
    ("switch", "section"),
    [
        ("Invoice history", "portal-invoices"),
        ("Shipping information", "portal-shipping"),
        ("Update payment methods", "portal-payment-methods"),
        ("Update billing details", "portal-billing"),
        ("Cancel subscriptions", "cancel-sub_sample1"),
        ("Switch plans", "switch-sub_sample1"),
    ],
)
async def test_each_toggle_changes_the_preview_without_saving(
    user: User, database: Database, switch: str, section: str
) -> None:
    before = stored(database)
    await log_in(user, then=PAGE)
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see(marker=section)
    user.find(kind=ui.switch, content=switch).click()
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_not_see(marker=section)
    await user.should_see("Unsaved changes")
    assert stored(database) == before
    user.find(kind=ui.switch, content=switch).click()
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see(marker=section)
    await user.should_not_see("Unsaved changes")


async def test_typing_a_headline_shows_it_in_the_preview_at_once(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    user.find(kind=ui.input, content="Headline").clear().type("Fast hosting, friendly people")
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see("Fast hosting, friendly people")
    assert stored(database).headline == "Cloud hosting that scales with you."


async def test_cancel_mode_changes_the_cancel_dialog_text_in_the_preview(user: User) -> None:
    await log_in(user, then=PAGE)

    async def consequence() -> str:
        with user.scope(marker=PREVIEW_MARKER):
            user.find(marker="cancel-sub_sample1").click()
        await user.should_see(marker="cancel-consequence")  # dialogs open on top of the page, outside the region
        (label,) = user.find(marker="cancel-consequence").elements
        text = label.text
        user.find(kind=ui.button, content="Keep subscription").click()
        return text

    assert (await consequence()).startswith("You will keep access until")
    (mode,) = user.find(kind=ui.radio, content="Immediately").elements
    (cancel_button,) = user.find(marker="cancel-sub_sample1").elements
    with user:
        mode.value = "immediately"
    await rebuilt(cancel_button)
    assert "lose access immediately" in await consequence()


async def test_actions_in_the_preview_explain_they_are_disabled(user: User) -> None:
    await log_in(user, then=PAGE)
    with user.scope(marker=PREVIEW_MARKER):
        user.find(marker="cancel-sub_sample1").click()
    await user.should_see(marker="cancel-consequence")
    with user.scope(kind=ui.dialog):
        user.find(kind=ui.button, content="Cancel subscription").click()
    await user.should_see("Disabled in preview", retries=30)


async def test_reset_asks_then_restores_the_saved_settings(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    assert not button(user, "Reset").enabled
    user.find(kind=ui.switch, content="Invoice history").click()
    user.find(kind=ui.input, content="Headline").clear().type("Draft headline")
    user.find(kind=ui.button, content="Reset").click()
    await user.should_see("Reset unsaved changes?")
    user.find(kind=ui.button, content="Discard changes").click()
    await user.should_not_see("Unsaved changes")
    await user.should_see(kind=ui.input, content="Cloud hosting that scales with you.", retries=30)  # form rebuilt
    (switch,) = user.find(kind=ui.switch, content="Invoice history").elements
    assert switch.value is True
    assert input_named(user, "Headline").value == "Cloud hosting that scales with you."
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see(marker="portal-invoices")
        await user.should_not_see("Draft headline")
    assert not button(user, "Reset").enabled


async def test_save_persists_and_a_portal_link_then_shows_the_change(
    user: User, database: Database, settings: Settings
) -> None:
    before = stored(database)
    await log_in(user, then=PAGE)
    assert not button(user, "Save").enabled
    user.find(kind=ui.switch, content="Invoice history").click()
    user.find(kind=ui.input, content="Headline").clear().type("Saved headline")
    user.find(kind=ui.button, content="Save").click()
    # Saved off the event loop: the badge goes once the save is done ("Saved" is also the new headline's start).
    await user.should_not_see("Unsaved changes", retries=30)
    await user.should_see("Saved")
    after = stored(database)
    assert (after.invoice_history, after.headline, after.version) == (False, "Saved headline", before.version + 1)
    assert not button(user, "Save").enabled

    with database.transaction() as session:
        customer_id = session.scalars(select(Customer.id).where(Customer.merchant_id == after.merchant_id)).first()
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=after.merchant_id,
            customer_id=customer_id,
            created_by="test",
        )
    await user.open(link.url.removeprefix(settings.effective_public_url))
    await user.should_see("Saved headline")
    await user.should_see(marker="portal-subscriptions")
    await user.should_not_see(marker="portal-invoices")


async def save_in_another_tab(user: User, database: Database) -> PortalSettingsView:
    """Open the page, save a new headline behind its back, then change a switch and Save: the conflict dialog.

    Returns the settings as the page loaded them."""
    await log_in(user, then=PAGE)
    loaded = stored(database)
    with database.transaction() as session:
        save_portal_settings(
            session=session,
            draft=replace(loaded, headline="Saved in another tab"),
            expected_version=loaded.version,
            clock=lambda: DEMO_NOW,
        )
    user.find(kind=ui.switch, content="Shipping information").click()
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("The portal settings were saved elsewhere")
    return loaded


async def test_a_save_made_elsewhere_meanwhile_gives_the_conflict_dialog(user: User, database: Database) -> None:
    loaded = await save_in_another_tab(user, database)
    assert stored(database).shipping_information is True  # nothing overwritten silently

    user.find(kind=ui.button, content="Overwrite with my changes").click()
    await user.should_see("Saved")
    after = stored(database)
    assert (after.shipping_information, after.version) == (False, loaded.version + 2)


async def test_reloading_after_a_conflict_shows_the_other_save(user: User, database: Database) -> None:
    await save_in_another_tab(user, database)
    user.find(kind=ui.button, content="Reload saved settings").click()
    await user.should_not_see("Unsaved changes")
    await user.should_see(kind=ui.input, content="Saved in another tab", retries=30)  # the form was rebuilt
    assert input_named(user, "Headline").value == "Saved in another tab"
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see("Saved in another tab")


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        ("Terms of service URL", "http://acme.test/terms", "https://"),
        ("Support email", "support@", "valid email"),
        ("Website", "acme.test", "https://"),
        ("Support phone", "12", "country code"),
    ],
)
async def test_invalid_input_is_shown_inline_and_blocks_save(
    user: User, database: Database, label: str, value: str, message: str
) -> None:
    await log_in(user, then=PAGE)
    field = input_named(user, label)
    user.find(kind=ui.input, content=label).clear().type(value)
    assert message in (field.error or "")
    assert not button(user, "Save").enabled
    await user.should_see("Unsaved changes")
    user.find(kind=ui.input, content=label).clear()
    assert field.error is None


async def test_switching_plans_needs_at_least_one_price(user: User) -> None:
    await log_in(user, then=PAGE)
    (prices,) = user.find(kind=ui.select, content="Prices customers can switch to").elements
    with user:
        prices.value = []
    assert "at least one price" in (prices.error or "")
    assert not button(user, "Save").enabled


async def test_preview_as_a_real_customer(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    (chooser,) = user.find(kind=ui.select, content="Preview as").elements
    customer_id = next(key for key in chooser.options if key)
    with database.transaction() as session:
        name = session.get_one(Customer, customer_id).name
    with user:
        chooser.value = customer_id
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_not_see(marker="subscription-sub_sample1")
        await user.should_see(marker="portal-subscriptions")
    assert name


async def test_preview_as_searches_all_the_merchants_customers(user: User, database: Database) -> None:
    with database.transaction() as session:
        oldest = session.scalars(
            select(Customer.email).where(Customer.merchant_id == acme_id(database)).order_by(Customer.created_at)
        ).first()
    await log_in(user, then=PAGE)
    (chooser,) = user.find(kind=ui.select, content="Preview as").elements
    assert not any(oldest in label for label in chooser.options.values())  # only the newest are offered at first
    user.find(kind=ui.select, content="Preview as").trigger("inputValue", oldest)
    assert [label for key, label in chooser.options.items() if key] == [f"{name_of(database, oldest)} ({oldest})"]


def name_of(database: Database, email: str) -> str:
    with database.transaction() as session:
        return session.scalars(select(Customer.name).where(Customer.email == email)).one()


async def test_the_preview_tab_shows_the_unsaved_draft(user: User, database: Database, settings: Settings) -> None:
    draft = replace(stored(database), headline="Only in the preview", invoice_history=False)
    token = issue_preview_token(settings=settings, draft=draft, customer_id=None)
    await log_in(user, then=PAGE)
    await user.open(f"/settings/portal/preview?token={token}")
    await user.should_see("Preview — not saved")
    await user.should_see("Only in the preview")
    await user.should_see(marker="portal-subscriptions")
    await user.should_not_see(marker="portal-invoices")
    assert stored(database).headline != "Only in the preview"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "This preview cannot be shown"),
        ("expired", "This preview has expired"),
        ("globex", "This preview cannot be shown"),
    ],
)
async def test_a_bad_preview_link_says_what_happened(
    user: User, database: Database, settings: Settings, token: str, message: str
) -> None:
    acme = stored(database)
    if token == "expired":
        issued = datetime.now(UTC) - timedelta(minutes=16)  # the app under test runs on the real clock
        token = issue_preview_token(settings=settings, draft=acme, customer_id=None, clock=lambda: issued)
    elif token == "globex":
        token = issue_preview_token(settings=settings, draft=replace(acme, merchant_id="acct_other"), customer_id=None)
    await log_in(user, then=PAGE)
    await user.open(f"/settings/portal/preview?token={token}")
    await user.should_see(message)
    await user.should_see("Customer portal settings")


async def test_pausing_shows_in_the_preview_and_needs_a_duration(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_not_see(marker="pause-sub_sample1")
    user.find(kind=ui.switch, content="Pause subscriptions").click()
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see(marker="pause-sub_sample1")
    for duration in ("1 billing period", "2 billing periods", "3 billing periods", "Until they resume"):
        user.find(kind=ui.checkbox, content=duration).click()
    await user.should_see("Choose at least one way customers can pause.")
    assert not button(user, "Save").enabled
    user.find(kind=ui.checkbox, content="Until they resume").click()
    await user.should_not_see("Choose at least one way customers can pause.")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    saved = stored(database)
    assert saved.pause_subscriptions and saved.pause_durations == ("until_resumed",)


async def test_resubscribe_and_the_retention_offer_show_in_the_preview_and_are_saved(
    user: User, database: Database
) -> None:
    await log_in(user, then=PAGE)
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_not_see(marker="resubscribe-sub_sample3")
    user.find(kind=ui.switch, content="Resubscribe").click()
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see(marker="resubscribe-sub_sample3")
    user.find(kind=ui.switch, content="Retention offer").click()
    periods = user.find(kind=ui.number, content="Number of invoices")
    periods.elements.pop().set_value(30)
    await user.should_see("Enter a number of invoices between 1 and 24.")
    assert not button(user, "Save").enabled
    user.find(kind=ui.number, content="Number of invoices").elements.pop().set_value(2)
    await user.should_not_see("Enter a number of invoices between 1 and 24.")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    saved = stored(database)
    assert saved.resubscribe and saved.retention_offer
    assert (saved.retention_discount_kind, saved.retention_discount_value, saved.retention_periods) == (
        "percent",
        50,
        2,
    )
