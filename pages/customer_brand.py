"""The merchant's look on the pages customers reach without a working portal link: link problems and sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nicegui import ui

from app.context import AppContext
from app.errors import NotFound
from app.formatting import tel_url
from app.services.merchants import get_account_details
from app.services.portal_settings import branding_image_url, get_portal_settings
from components.portal.base import DEFAULT_ACCENT, DEFAULT_BRAND, PortalTheme
from components.portal.text import PortalText
from components.theme import page_colors
from server.nicegui_internals import set_page_language


@dataclass(frozen=True, slots=True)
class Brand:
    """What the page shows of the merchant, when it is known."""

    business_name: str = ""
    theme: PortalTheme | None = None
    icon_src: str | None = None
    support_email: str = ""
    support_phone: str = ""
    website: str = ""
    time_zone: str = "UTC"

    @property
    def text_color(self) -> str:
        return self.theme.text_color_prop if self.theme else "white"


def merchant_brand(context: AppContext, merchant_id: str | None) -> Brand:
    if merchant_id is None:
        return Brand()
    try:
        with context.database.transaction() as session:
            settings = get_portal_settings(session=session, merchant_id=merchant_id)
            account = get_account_details(session=session, merchant_id=merchant_id)
    except NotFound:
        return Brand()
    return Brand(
        business_name=account.public_business_name,
        theme=PortalTheme.of(settings),
        icon_src=branding_image_url(settings, "icon"),
        support_email=settings.support_email or account.support_email,
        support_phone=settings.support_phone or account.support_phone,
        website=settings.website_url or account.website,
        time_zone=account.time_zone,
    )


@contextmanager
def branded_card(brand: Brand, t: PortalText, title: str) -> Iterator[None]:
    """A page with one card in the merchant's colours, its name and icon on top; `title` is already translated."""
    ui.page_title(title)
    set_page_language(t.locale)
    theme = brand.theme or PortalTheme.of_colors(DEFAULT_BRAND, DEFAULT_ACCENT)
    page_colors(theme.brand_text)
    ui.query("body").classes("bg-grey-1")
    with (
        ui.element("div")
        .classes("w-full min-h-screen flex justify-center items-start q-pa-md")
        .style(theme.scope_style),
        ui.card().classes("w-full max-w-md q-pa-lg gap-4 q-mt-xl"),
    ):
        if brand.business_name:
            with ui.row().classes("items-center gap-3 no-wrap"):
                if brand.icon_src:
                    ui.image(brand.icon_src).props('alt=""').classes("w-10 h-10 rounded-borders")
                ui.label(brand.business_name).classes("text-subtitle1 text-weight-bold")
        yield


def support_contact(brand: Brand, t: PortalText) -> None:
    if not (brand.support_email or brand.support_phone or brand.website):
        return
    with ui.column().classes("gap-1 q-mt-sm"):
        ui.label(t("Need help? Contact {business}:", business=brand.business_name)).classes("text-weight-medium")
        if brand.support_email:
            ui.link(brand.support_email, f"mailto:{brand.support_email}").classes("text-primary")
        if brand.support_phone:
            ui.link(brand.support_phone, tel_url(brand.support_phone)).classes("text-primary")
        if brand.website:
            ui.link(brand.website, brand.website, new_tab=True).classes("text-primary")
