"""What every portal page load reads: the merchant's settings kept per process, re-read after any change anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from app.config import Settings
from app.db import Database
from app.models import Merchant
from app.services import portal
from app.services.portal_links import PortalAccess
from app.services.portal_settings import get_portal_settings, save_portal_settings
from app.views import PortalView
from benchmarks.queries import captured_statements
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import access_to, set_portal_settings


@pytest.fixture
def other_process(settings: Settings) -> Iterator[Database]:
    """A second engine on the same database: what another app process sees (its own pool, its own kept copies)."""
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


def page_load(database: Database, access: PortalAccess | None = None) -> PortalView:
    with database.transaction() as session:
        return portal.load_portal_view(session=session, access=access or access_to(database))


def test_a_save_made_through_another_process_shows_on_the_next_page_load(
    database: Database, other_process: Database
) -> None:
    before = page_load(other_process)
    assert page_load(other_process).settings == before.settings  # kept, and still current
    with database.transaction() as session:
        saved = get_portal_settings(session=session, merchant_id=before.settings.merchant_id)
        draft = replace(saved, headline="Hosting that grows with you", cancel_subscriptions=False)
        save_portal_settings(session=session, draft=draft, expected_version=saved.version, clock=lambda: DEMO_NOW)

    after = page_load(other_process)
    assert after.settings.headline == "Hosting that grows with you"
    assert not after.settings.cancel_subscriptions
    assert after.settings.version == before.settings.version + 1


def test_a_change_written_outside_the_settings_page_shows_too(database: Database, other_process: Database) -> None:
    before = page_load(other_process)
    set_portal_settings(database, before.settings.merchant_id, invoice_history=False)  # no version bump: an ORM write
    assert not page_load(other_process).settings.invoice_history


def test_the_merchants_name_and_time_zone_are_read_on_every_load(database: Database, other_process: Database) -> None:
    access = access_to(database)
    page_load(other_process, access)
    with database.transaction() as session:
        merchant = session.get_one(Merchant, access.merchant_id)
        merchant.public_business_name, merchant.time_zone = "Acme Cloud Ltd", "Asia/Tokyo"
    after = page_load(other_process, access)
    assert (after.business_name, after.time_zone) == ("Acme Cloud Ltd", "Asia/Tokyo")


def test_unchanged_settings_are_checked_with_one_small_query_not_read_again(database: Database) -> None:
    page_load(database)
    with captured_statements(database.engine) as statements:
        page_load(database)
    settings_reads = [statement for statement, _ in statements if "FROM portal_settings" in statement]
    assert len(settings_reads) == 1
    assert "portal_settings.brand_color" not in settings_reads[0]  # the version check, not the wide row
