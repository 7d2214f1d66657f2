"""Branding: uploads checked by content and refused with a reason, colours checked, Save stores, Reset forgets."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from PIL import Image
from sqlalchemy import select

from app.db import Database
from app.models import Merchant
from app.services.portal_settings import get_portal_settings, load_branding_image, save_portal_settings
from app.views import PortalSettingsView
from components.settings import PREVIEW_MARKER
from tests.ui.conftest import log_in
from tests.ui.eventually import eventually

PAGE = "/settings/branding"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'


def stored(database: Database) -> PortalSettingsView:
    with database.transaction() as session:
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Acme Cloud")).one()
        return get_portal_settings(session=session, merchant_id=merchant_id)


def png(size: tuple[int, int] = (256, 256)) -> bytes:
    output = BytesIO()
    Image.new("RGB", size, "#0f7b6c").save(output, format="PNG")
    return output.getvalue()


def animated_gif() -> bytes:
    output = BytesIO()
    frames = [Image.new("RGB", (16, 16), color) for color in ("red", "blue")]
    frames[0].save(output, format="GIF", save_all=True, append_images=frames[1:])
    return output.getvalue()


def decompression_bomb() -> bytes:
    """A few kilobytes that would decode to 144 million pixels."""
    output = BytesIO()
    Image.new("1", (12_000, 12_000)).save(output, format="PNG")
    return output.getvalue()


async def upload(user: User, kind: str, name: str, content_type: str, data: bytes) -> None:
    (element,) = user.find(marker=f"{kind}-upload").elements
    with user:
        await element.handle_uploads([SmallFileUpload(name=name, content_type=content_type, _data=data)])


def save_button(user: User) -> ui.button:
    (button,) = user.find(kind=ui.button, content="Save").elements
    return button


def preview_images(user: User) -> list[str]:
    (preview,) = user.find(marker=PREVIEW_MARKER).elements
    return [element.source for element in preview.descendants() if isinstance(element, ui.image)]


async def test_an_uploaded_png_shows_in_the_preview_and_is_stored_on_save(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    await upload(user, "icon", "icon.png", "image/png", png())
    await user.should_see(marker="icon-image", retries=30)
    assert any(source.startswith("data:image/png;base64,") for source in preview_images(user))
    assert stored(database).has_icon is False  # not before Save
    await user.should_see("Unsaved changes")

    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    after = stored(database)
    assert after.has_icon
    with database.transaction() as session:
        icon = load_branding_image(session=session, merchant_id=after.merchant_id, kind="icon")
    assert Image.open(BytesIO(icon.png)).size == (128, 128)
    saved_url = f"/media/{after.merchant_id}/icon.png?v={after.version}"
    await eventually(lambda: saved_url in preview_images(user), "the preview to show the saved icon")


@pytest.mark.parametrize(
    ("name", "content_type", "data", "message"),
    [
        (
            "notes.png",
            "image/png",
            b"These are my notes, not a picture.\n" * 10,
            "This file is not a PNG, JPEG or WebP image.",
        ),
        ("logo.svg", "image/svg+xml", SVG, "SVG images are not supported. Upload a PNG, JPEG or WebP image."),
        ("huge.png", "image/png", png() + b"\0" * (2 * 1024 * 1024), "The file is larger than 2 MB."),
        ("empty.png", "image/png", b"", "The file is empty."),
        ("spinner.gif", "image/gif", animated_gif(), "This file is not a PNG, JPEG or WebP image."),
        ("bomb.png", "image/png", decompression_bomb(), "The image has too many pixels."),
    ],
)
async def test_refused_uploads_say_why_and_nothing_changes(
    user: User, database: Database, name: str, content_type: str, data: bytes, message: str
) -> None:
    before = stored(database)
    await log_in(user, then=PAGE)
    await upload(user, "logo", name, content_type, data)
    await user.should_see(message, retries=30)
    await user.should_see("No logo yet")
    await user.should_not_see("Unsaved changes")
    assert not save_button(user).enabled
    assert stored(database) == before


async def test_remove_takes_the_saved_icon_away_on_save(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    await upload(user, "icon", "icon.png", "image/png", png())
    await user.should_see(marker="icon-image", retries=30)
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    await user.should_see("Remove icon", retries=30)
    user.find(kind=ui.button, content="Remove icon").click()
    await user.should_see("No icon yet", retries=30)
    assert stored(database).has_icon  # still there until Save
    user.find(kind=ui.button, content="Save").click()
    # Waiting for "Saved" would not do: the first one is still shown.
    await eventually(lambda: not stored(database).has_icon, "the icon to be removed")


async def test_an_invalid_colour_blocks_save_and_a_valid_one_changes_the_preview(
    user: User, database: Database
) -> None:
    await log_in(user, then=PAGE)
    (brand,) = user.find(kind=ui.color_input, content="Brand colour").elements
    with user:
        brand.value = "red"
    assert "six hex digits" in brand.props["error-message"]
    assert not save_button(user).enabled
    with user:
        brand.value = "#12345"
    assert brand.props["error"] is True
    assert not save_button(user).enabled

    with user:
        brand.value = "#0f7b6c"
    assert brand.props["error"] is False
    assert save_button(user).enabled
    await user.should_see("Button text on the brand colour: contrast 5.2:1", retries=30)
    with user.scope(marker=PREVIEW_MARKER):
        await user.should_see(marker="portal-subscriptions", retries=30)
    assert stored(database).brand_color == "#635bff"

    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    assert stored(database).brand_color == "#0f7b6c"


async def test_low_contrast_colours_are_warned_about(user: User) -> None:
    await log_in(user, then=PAGE)
    (brand,) = user.find(kind=ui.color_input, content="Brand colour").elements
    with user:
        brand.value = "#ffd700"
    await user.should_see(
        "Brand-coloured links and outlined buttons on white: contrast 1.4:1 — below 4.5:1, hard to read for many "
        "people; customers see them in a darker shade, #8a7400 (4.6:1)",
        retries=30,
    )


async def test_reset_forgets_an_upload_and_colour_changes(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    await upload(user, "logo", "logo.png", "image/png", png((600, 150)))
    await user.should_see(marker="logo-image", retries=30)
    user.find(kind=ui.button, content="Reset").click()
    user.find(kind=ui.button, content="Discard changes").click()
    await user.should_see("No logo yet", retries=30)
    await user.should_not_see("Unsaved changes")
    assert stored(database).has_logo is False


async def test_a_save_made_elsewhere_meanwhile_asks_before_overwriting(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    loaded = stored(database)
    with database.transaction() as session:  # the portal settings page saves in another tab
        save_portal_settings(
            session=session, draft=replace(loaded, headline="Saved elsewhere"), expected_version=loaded.version
        )
    (accent,) = user.find(kind=ui.color_input, content="Accent colour").elements
    with user:
        accent.value = "#112233"
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("The settings were saved elsewhere")
    assert stored(database).accent_color == loaded.accent_color
    user.find(kind=ui.button, content="Overwrite with my changes").click()
    await user.should_see("Saved")
    after = stored(database)
    assert (after.accent_color, after.headline, after.version) == ("#112233", "Saved elsewhere", loaded.version + 2)
