"""Portal settings service: validation, atomic versioned saves with conflicts, branding, images, preview tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import Conflict, LinkExpired, LinkInvalid, NotFound, ValidationFailed
from app.images import process_icon, process_logo
from app.models import Customer, Invoice, Merchant, Price
from app.services.merchants import get_account_details
from app.services.portal_links import signed_serializer
from app.services.portal_preview import (
    issue_preview_token,
    load_preview_customer,
    open_preview_token,
    preview_view,
)
from app.services.portal_settings import (
    CONFLICT_MESSAGE,
    ImageEdit,
    branding_image_url,
    get_portal_settings,
    load_branding_image,
    save_branding,
    save_portal_settings,
    validate_portal_settings,
)
from app.views import PortalSettingsView
from tests.conftest import DEMO_NOW


def merchant_id_of(database: Database, business_name: str = "Acme Cloud") -> str:
    with database.transaction() as session:
        return session.scalars(select(Merchant.id).where(Merchant.public_business_name == business_name)).one()


def load(database: Database, merchant_id: str) -> PortalSettingsView:
    with database.transaction() as session:
        return get_portal_settings(session=session, merchant_id=merchant_id)


def save(database: Database, draft: PortalSettingsView, *, expected_version: int | None = None, force: bool = False):
    with database.transaction() as session:
        return save_portal_settings(
            session=session,
            draft=draft,
            expected_version=draft.version if expected_version is None else expected_version,
            force=force,
            clock=lambda: DEMO_NOW,
        )


@pytest.fixture
def saved(database: Database) -> PortalSettingsView:
    return load(database, merchant_id_of(database))


def png_bytes(size: tuple[int, int] = (200, 200), color: str = "#ff0000") -> bytes:
    output = BytesIO()
    Image.new("RGB", size, color).save(output, format="PNG")
    return output.getvalue()


# --- Validation -------------------------------------------------------------------------------------------------


def test_the_seeded_settings_are_valid(saved: PortalSettingsView) -> None:
    assert validate_portal_settings(saved) == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"terms_url": "http://acme.test/terms"}, "terms_url", "https://"),
        ({"privacy_url": "javascript:alert(1)"}, "privacy_url", "https://"),
        ({"website_url": "https://" + "a" * 300}, "website_url", "at most 300"),
        ({"support_email": "not-an-email"}, "support_email", "valid email"),
        ({"support_phone": "555"}, "support_phone", "country code"),
        ({"headline": "x" * 121}, "headline", "at most 120"),
        ({"address": "x" * 301}, "address", "at most 300"),
        ({"cancel_mode": "sometime"}, "cancel_mode", "when cancellations"),
        ({"billing_fields": ()}, "billing_fields", "at least one"),
        ({"billing_fields": ("name", "shoe_size")}, "billing_fields", "from the list"),
        ({"plan_switching": True, "switchable_price_ids": ()}, "switchable_price_ids", "at least one price"),
    ],
)
def test_invalid_drafts_name_the_field_and_say_what_to_do(
    saved: PortalSettingsView, changes: dict, field: str, message: str
) -> None:
    errors = validate_portal_settings(replace(saved, **changes))
    assert set(errors) == {field}
    assert message in errors[field]


def test_optional_fields_may_be_empty_and_switched_off_features_need_no_choices(saved: PortalSettingsView) -> None:
    empty = dict.fromkeys(("headline", "support_email", "support_phone", "address", "website_url"), "")
    draft = replace(saved, **empty, billing_details_update=False, billing_fields=(), plan_switching=False)
    assert validate_portal_settings(replace(draft, switchable_price_ids=())) == {}


# --- Saving -----------------------------------------------------------------------------------------------------


def test_save_persists_the_draft_bumps_the_version_and_cleans_contact_details(
    database: Database, saved: PortalSettingsView
) -> None:
    draft = replace(
        saved,
        invoice_history=False,
        cancel_mode="immediately",
        headline="  Hosting for everyone  ",
        support_email="Help@ACME.test",
        support_phone="+14155550133",
    )
    result = save(database, draft)
    assert result.version == saved.version + 1
    assert load(database, saved.merchant_id) == result
    assert (result.invoice_history, result.cancel_mode) == (False, "immediately")
    assert (result.headline, result.support_email, result.support_phone) == (
        "Hosting for everyone",
        "help@acme.test",
        "+1 415-555-0133",
    )


def test_an_invalid_draft_is_refused_and_nothing_changes(database: Database, saved: PortalSettingsView) -> None:
    with pytest.raises(ValidationFailed) as failed:
        save(database, replace(saved, invoice_history=False, terms_url="http://acme.test/terms"))
    assert set(failed.value.field_errors) == {"terms_url"}
    assert load(database, saved.merchant_id) == saved


def test_a_save_based_on_an_old_version_is_a_conflict_and_changes_nothing(
    database: Database, saved: PortalSettingsView
) -> None:
    elsewhere = save(database, replace(saved, headline="Saved in another tab"))
    with pytest.raises(Conflict, match=CONFLICT_MESSAGE):
        save(database, replace(saved, invoice_history=False))
    assert load(database, saved.merchant_id) == elsewhere


def test_overwriting_after_a_conflict_wins_and_bumps_the_version_again(
    database: Database, saved: PortalSettingsView
) -> None:
    save(database, replace(saved, headline="Saved in another tab"))
    result = save(database, replace(saved, invoice_history=False), force=True)
    assert result.version == saved.version + 2
    assert (result.invoice_history, result.headline) == (False, saved.headline)


def test_only_the_merchants_own_active_prices_can_be_offered(database: Database, saved: PortalSettingsView) -> None:
    globex = merchant_id_of(database, "Globex")
    with database.transaction() as session:
        foreign_price = session.scalars(select(Price.id).where(Price.merchant_id == globex).limit(1)).one()
    with pytest.raises(ValidationFailed) as failed:
        save(database, replace(saved, switchable_price_ids=(*saved.switchable_price_ids, foreign_price)))
    assert set(failed.value.field_errors) == {"switchable_price_ids"}


def test_saving_settings_leaves_branding_alone(database: Database, saved: PortalSettingsView) -> None:
    result = save(database, replace(saved, brand_color="#000000", has_icon=True))
    assert (result.brand_color, result.has_icon) == (saved.brand_color, False)


def test_settings_of_an_unknown_merchant_are_not_found(database: Database, saved: PortalSettingsView) -> None:
    with pytest.raises(NotFound):
        save(database, replace(saved, merchant_id="acct_nobody", plan_switching=False, switchable_price_ids=()))


# --- Branding ---------------------------------------------------------------------------------------------------


def brand(database: Database, merchant_id: str, version: int, **changes: object) -> PortalSettingsView:
    arguments = {"brand_color": "#0055FF", "accent_color": "#112233", **changes}
    with database.transaction() as session:
        return save_branding(
            session=session, merchant_id=merchant_id, expected_version=version, clock=lambda: DEMO_NOW, **arguments
        )


def test_branding_saves_colours_and_images_and_the_media_urls_change(
    database: Database, saved: PortalSettingsView
) -> None:
    icon, logo = process_icon(png_bytes()), process_logo(png_bytes((300, 100)))
    result = brand(database, saved.merchant_id, saved.version, icon=ImageEdit(icon), logo=ImageEdit(logo))
    assert (result.brand_color, result.accent_color, result.has_icon, result.has_logo) == (
        "#0055ff",
        "#112233",
        True,
        True,
    )
    assert branding_image_url(result, "icon") == f"/media/{saved.merchant_id}/icon.png?v={saved.version + 1}"
    with database.transaction() as session:
        stored = load_branding_image(session=session, merchant_id=saved.merchant_id, kind="logo")
    assert (stored.png, stored.version) == (logo, result.version)


def test_removing_an_image_and_keeping_the_other(database: Database, saved: PortalSettingsView) -> None:
    icon = process_icon(png_bytes())
    first = brand(database, saved.merchant_id, saved.version, icon=ImageEdit(icon), logo=ImageEdit(icon))
    second = brand(database, saved.merchant_id, first.version, icon=ImageEdit(None))
    assert (second.has_icon, second.has_logo) == (False, True)
    assert branding_image_url(second, "icon") is None
    with database.transaction() as session:
        with pytest.raises(NotFound):
            load_branding_image(session=session, merchant_id=saved.merchant_id, kind="icon")
        assert load_branding_image(session=session, merchant_id=saved.merchant_id, kind="logo").png == icon


def test_branding_refuses_colours_that_are_not_rrggbb(database: Database, saved: PortalSettingsView) -> None:
    with pytest.raises(ValidationFailed) as failed:
        brand(database, saved.merchant_id, saved.version, brand_color="red", accent_color="#12345")
    assert set(failed.value.field_errors) == {"brand_color", "accent_color"}
    assert load(database, saved.merchant_id) == saved


def test_branding_saved_from_a_stale_page_is_a_conflict(database: Database, saved: PortalSettingsView) -> None:
    save(database, replace(saved, headline="Saved in another tab"))
    with pytest.raises(Conflict):
        brand(database, saved.merchant_id, saved.version)


@pytest.mark.parametrize("kind", ["favicon", "../icon", "icon_png"])
def test_only_icon_and_logo_can_be_loaded(database: Database, saved: PortalSettingsView, kind: str) -> None:
    with database.transaction() as session, pytest.raises(NotFound):
        load_branding_image(session=session, merchant_id=saved.merchant_id, kind=kind)


# --- Preview ----------------------------------------------------------------------------------------------------


def test_a_preview_token_carries_the_unsaved_draft(
    database: Database, settings: Settings, saved: PortalSettingsView
) -> None:
    draft = replace(saved, invoice_history=False, billing_fields=("email",), headline="Not saved yet")
    token = issue_preview_token(settings=settings, draft=draft, customer_id="cus_x", clock=lambda: DEMO_NOW)
    opened = open_preview_token(settings=settings, token=token, merchant_id=saved.merchant_id, clock=lambda: DEMO_NOW)
    assert (opened.draft, opened.customer_id) == (draft, "cus_x")
    assert load(database, saved.merchant_id) == saved


def test_a_preview_token_expires_after_15_minutes(settings: Settings, saved: PortalSettingsView) -> None:
    token = issue_preview_token(settings=settings, draft=saved, customer_id=None, clock=lambda: DEMO_NOW)
    later = DEMO_NOW + timedelta(minutes=15, seconds=1)
    with pytest.raises(LinkExpired):
        open_preview_token(settings=settings, token=token, merchant_id=saved.merchant_id, clock=lambda: later)


def test_a_tampered_preview_token_is_invalid(settings: Settings, saved: PortalSettingsView) -> None:
    token = issue_preview_token(settings=settings, draft=saved, customer_id=None, clock=lambda: DEMO_NOW)
    with pytest.raises(LinkInvalid):
        open_preview_token(settings=settings, token=token[:-2], merchant_id=saved.merchant_id, clock=lambda: DEMO_NOW)


def test_a_preview_token_is_only_for_its_merchant(
    database: Database, settings: Settings, saved: PortalSettingsView
) -> None:
    token = issue_preview_token(settings=settings, draft=saved, customer_id=None, clock=lambda: DEMO_NOW)
    with pytest.raises(NotFound):
        open_preview_token(
            settings=settings, token=token, merchant_id=merchant_id_of(database, "Globex"), clock=lambda: DEMO_NOW
        )


def test_a_portal_link_token_is_not_a_preview_token(settings: Settings, saved: PortalSettingsView) -> None:
    link_token = signed_serializer(settings, lambda: DEMO_NOW).dumps({"draft": {}, "customer_id": None})
    with pytest.raises(LinkInvalid):
        open_preview_token(settings=settings, token=link_token, merchant_id=saved.merchant_id, clock=lambda: DEMO_NOW)


def test_preview_data_is_the_sample_customer_or_a_real_one_of_this_merchant(
    database: Database, saved: PortalSettingsView
) -> None:
    globex = merchant_id_of(database, "Globex")
    with database.transaction() as session:
        sample = load_preview_customer(session=session, merchant_id=saved.merchant_id, customer_id=None, now=DEMO_NOW)
        customer_id = session.scalars(
            select(Invoice.customer_id).where(Invoice.merchant_id == saved.merchant_id).limit(1)
        ).one()
        real = load_preview_customer(
            session=session, merchant_id=saved.merchant_id, customer_id=customer_id, now=DEMO_NOW
        )
        foreign = session.scalars(select(Customer.id).where(Customer.merchant_id == globex).limit(1)).one()
        with pytest.raises(NotFound):
            load_preview_customer(session=session, merchant_id=saved.merchant_id, customer_id=foreign, now=DEMO_NOW)
    assert sample.data.customer.name == "Jenny Rosen"
    assert {price.id for price in sample.data.available_prices} == set(saved.switchable_price_ids)
    assert len(sample.invoices) == 12
    assert real.data.customer.id == customer_id
    assert real.invoices
    assert all(invoice.lines for invoice in real.invoices)


def test_the_preview_view_is_the_draft_as_the_customer_sees_it(database: Database, saved: PortalSettingsView) -> None:
    draft = replace(saved, plan_switching=False, default_return_url="")
    with database.transaction() as session:
        account = get_account_details(session=session, merchant_id=saved.merchant_id)
        subject = load_preview_customer(session=session, merchant_id=saved.merchant_id, customer_id=None, now=DEMO_NOW)
    view = preview_view(draft=draft, account=account, data=subject.data, icon_src=None, logo_src="data:image/png;x")
    assert view.is_preview
    assert (view.settings, view.business_name, view.time_zone) == (draft, "Acme Cloud", "America/New_York")
    assert (view.return_url, view.logo_src, view.locale) == (None, "data:image/png;x", "en_US")
    assert view.data.available_prices == ()  # plan switching is off in the draft
