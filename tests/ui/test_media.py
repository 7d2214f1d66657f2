"""The public branding image route: stored PNGs only, typed, not sniffable, cached for good when versioned."""

from __future__ import annotations

from io import BytesIO

from nicegui.testing import User
from PIL import Image
from sqlalchemy import select

from app.db import Database
from app.images import process_icon
from app.models import Merchant
from app.services.portal_settings import ImageEdit, get_portal_settings, save_branding


def store_icon(database: Database) -> tuple[str, int, bytes]:
    source = BytesIO()
    Image.new("RGB", (64, 64), "#123456").save(source, format="JPEG")
    icon = process_icon(source.getvalue())
    with database.transaction() as session:
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Acme Cloud")).one()
        version = get_portal_settings(session=session, merchant_id=merchant_id).version
        saved = save_branding(
            session=session,
            merchant_id=merchant_id,
            brand_color="#635bff",
            accent_color="#0a2540",
            icon=ImageEdit(icon),
            expected_version=version,
        )
    return merchant_id, saved.version, icon


async def test_a_stored_icon_is_served_publicly_as_png_and_cached_for_its_version(
    user: User, database: Database
) -> None:
    merchant_id, version, icon = store_icon(database)
    response = await user.http_client.get(f"/media/{merchant_id}/icon.png?v={version}")
    assert response.status_code == 200
    assert response.content == icon
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in response.headers["cache-control"]


async def test_an_unversioned_or_old_url_is_revalidated(user: User, database: Database) -> None:
    merchant_id, version, _icon = store_icon(database)
    for query in ("", f"?v={version - 1}", "?v=abc"):
        response = await user.http_client.get(f"/media/{merchant_id}/icon.png{query}")
        assert response.status_code == 200
        assert "no-cache" in response.headers["cache-control"]


async def test_missing_images_and_other_names_are_not_found(user: User, database: Database) -> None:
    merchant_id, _version, _icon = store_icon(database)
    for path in (
        f"/media/{merchant_id}/logo.png",
        f"/media/{merchant_id}/favicon.png",
        "/media/acct_nobody/icon.png",
        f"/media/{merchant_id}/icon.svg",
    ):
        assert (await user.http_client.get(path)).status_code == 404, path
