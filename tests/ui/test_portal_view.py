"""`portal_view` with preview actions, as the settings page embeds it: same look, writes only explained."""

from __future__ import annotations

from dataclasses import replace

from nicegui import ui
from nicegui.testing import User

from app.db import Database
from app.services.portal import compose_portal_view, sample_invoices, sample_portal_data
from app.services.portal_settings import get_portal_settings
from components.portal import PREVIEW_MESSAGE, PreviewActions, portal_view
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of


def _preview_page(database: Database, **settings: object) -> None:
    """A page that embeds the preview like the settings page does, with Acme's saved settings changed by `settings`."""
    with database.transaction() as session:
        saved = get_portal_settings(session=session, merchant_id=merchant_id_of(session, "Acme Cloud"))
    data = sample_portal_data(now=DEMO_NOW)
    view = compose_portal_view(
        settings=replace(saved, **settings),
        business_name="Preview Co",
        data=data,
        locale="en_US",
        time_zone="UTC",
        return_url=None,
        icon_src=None,
        logo_src=None,
        is_preview=True,
    )

    @ui.page("/portal/test/preview")
    def page() -> None:
        with ui.element("section").props('aria-label="Portal preview"'):
            portal_view(view, PreviewActions(data, invoices=sample_invoices(now=DEMO_NOW)))


async def test_preview_marks_itself_and_explains_that_writes_are_disabled(user: User, database: Database) -> None:
    _preview_page(database)
    await user.open("/portal/test/preview")
    await user.should_see("Preview")
    await user.should_see("Jenny Rosen")
    await user.should_not_see("Return to Preview Co")
    user.find(kind=ui.button, content="Cancel subscription").click()
    user.find(marker="confirm-cancel").click()
    await user.should_see(PREVIEW_MESSAGE, retries=30)


async def test_preview_pages_through_the_sample_invoices(user: User, database: Database) -> None:
    _preview_page(database)
    await user.open("/portal/test/preview")
    await user.should_see("SAMPLE-0012")
    user.find(kind=ui.button, content="Next").click()
    await user.should_see("SAMPLE-0001", retries=30)
    await user.should_not_see("SAMPLE-0012")
    await user.should_see("Page 2")


async def test_language_switch_translates_the_portal_and_its_money_and_dates(user: User, database: Database) -> None:
    _preview_page(database)
    await user.open("/portal/test/preview")
    await user.should_see("Nov 14, 2026")
    (language,) = user.find(kind=ui.select, content="Language").elements
    with user:
        language.value = "de_DE"
    await user.should_see("Abonnements", retries=30)
    await user.should_see("14.11.2026")
    await user.should_see("87,00\xa0$")
    await user.should_not_see("Subscriptions")
