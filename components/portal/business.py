"""The portal's business panel: icon or logo, name, headline, return link and the business information."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.colors import LIGHT_TEXT
from app.formatting import tel_url
from app.i18n import SUPPORTED_LOCALES, switcher_locale
from app.validation import check_email, check_https_url
from components.portal.base import Portal


def business_panel(portal: Portal, on_locale: Callable[[str], None]) -> None:
    view, t, theme = portal.view, portal.text, portal.theme
    settings = view.settings
    with ui.column().classes("gap-4 w-full @3xl:sticky @3xl:top-12"):
        with ui.row().classes("items-center gap-3 no-wrap"):
            if view.logo_src:
                ui.image(view.logo_src).props('alt="" fit=contain no-spinner').classes("h-10 w-40")
            elif view.icon_src:
                ui.image(view.icon_src).props('alt="" no-spinner').classes("w-10 h-10 rounded-borders")
            name = ui.label(view.business_name).classes("text-h6 text-weight-bold")
            name.props["role"] = "heading"
            name.props["aria-level"] = "1"
            if view.is_preview:
                ui.badge(t("Preview"), color="orange-3", text_color="black").props("rounded").mark("preview-marker")
        if view.return_url and check_https_url(view.return_url) is None:
            with (
                ui.link(target=view.return_url)
                .classes("row items-center gap-1 text-weight-medium")
                .style(f"color: {theme.on_accent}")
            ):
                ui.icon("arrow_back", size="xs")
                ui.label(t("Return to {business}", business=view.business_name))
        if settings.headline:
            ui.label(settings.headline).classes("text-body1")
        _business_information(portal)
        language = (
            ui.select(SUPPORTED_LOCALES, label=t("Language"), value=switcher_locale(view.locale))
            .props("dense outlined options-dense" + (" dark" if theme.on_accent == LIGHT_TEXT else ""))
            .classes("w-48")
        )
        language.on_value_change(lambda event: on_locale(event.value))


def _business_information(portal: Portal) -> None:
    settings, t, theme = portal.view.settings, portal.text, portal.theme
    links = [
        (settings.website_url, t("Website")),
        (settings.terms_url, t("Terms of service")),
        (settings.privacy_url, t("Privacy policy")),
    ]
    links = [(url, label) for url, label in links if url and check_https_url(url) is None]
    email = settings.support_email if settings.support_email and check_email(settings.support_email) is None else ""
    if not (email or settings.support_phone or settings.address or links):
        return
    with ui.element("section").classes("column gap-1 text-body2") as region:
        region.props["aria-label"] = t("Business information")
        heading = ui.label(t("Business information")).classes("text-subtitle2 text-weight-bold")
        heading.props["role"] = "heading"
        heading.props["aria-level"] = "2"
        link_style = f"color: {theme.on_accent}"
        if email:
            ui.link(email, f"mailto:{email}").style(link_style)
        if settings.support_phone:
            ui.link(settings.support_phone, tel_url(settings.support_phone)).style(link_style)
        if settings.address:
            ui.label(settings.address).classes("whitespace-pre-line")
        if links:
            with ui.row().classes("gap-3 q-mt-sm"):
                for url, label in links:
                    ui.link(label, url, new_tab=True).style(link_style)
