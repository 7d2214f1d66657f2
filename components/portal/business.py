"""The portal's business panel: icon or logo, name, headline, return link and the business information."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from app.colors import DARK_TEXT, LIGHT_TEXT
from app.formatting import tel_url
from app.i18n import SUPPORTED_LOCALES, switcher_locale
from app.validation import check_email, check_https_url
from components.portal.base import Portal
from components.presets import preset

# Every portal page builds the panel: its elements with their looks built in (see `preset`). Text on the accent
# colour is white or black (`readable_text_on`), so links come in those two colours.
_Panel = preset(ui.column, classes="gap-4 w-full @3xl:sticky @3xl:top-12")
_NameRow = preset(ui.row, classes="items-center gap-3 no-wrap")
_Logo = preset(ui.image, classes="h-10 w-40", props='alt="" fit=contain no-spinner')
_Icon = preset(ui.image, classes="w-10 h-10 rounded-borders", props='alt="" no-spinner')
_Name = preset(ui.label, classes="text-h6 text-weight-bold", props="role=heading aria-level=1")
_Headline = preset(ui.label, classes="text-body1")
_Information = preset(ui.element, classes="column gap-1 text-body2")
_InformationHeading = preset(ui.label, classes="text-subtitle2 text-weight-bold", props="role=heading aria-level=2")
_Address = preset(ui.label, classes="whitespace-pre-line")
_PolicyLinks = preset(ui.row, classes="gap-3 q-mt-sm")
_Links = {color: preset(ui.link, style=f"color: {color}") for color in (LIGHT_TEXT, DARK_TEXT)}
_ReturnLinks = {
    color: preset(ui.link, classes="row items-center gap-1 text-weight-medium", style=f"color: {color}")
    for color in (LIGHT_TEXT, DARK_TEXT)
}
_LANGUAGE_PROPS = "dense outlined options-dense"
_LanguageSelects = {
    LIGHT_TEXT: preset(ui.select, classes="w-48", props=f"{_LANGUAGE_PROPS} dark"),
    DARK_TEXT: preset(ui.select, classes="w-48", props=_LANGUAGE_PROPS),
}


def business_panel(portal: Portal, on_locale: Callable[[str], None]) -> None:
    view, t, theme = portal.view, portal.text, portal.theme
    settings = view.settings
    with _Panel():
        with _NameRow():
            if view.logo_src:
                _Logo(view.logo_src)
            elif view.icon_src:
                _Icon(view.icon_src)
            _Name(view.business_name)
            if view.is_preview:
                ui.badge(t("Preview"), color="orange-3", text_color="black").props("rounded").mark("preview-marker")
        if view.return_url and check_https_url(view.return_url) is None:
            with _ReturnLinks[theme.on_accent](target=view.return_url):
                ui.icon("arrow_back", size="xs")
                ui.label(t("Return to {business}", business=view.business_name))
        if settings.headline:
            _Headline(settings.headline)
        _business_information(portal)
        language = _LanguageSelects[theme.on_accent](
            SUPPORTED_LOCALES, label=t("Language"), value=switcher_locale(view.locale)
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
    with _Information("section") as region:
        region.props["aria-label"] = t("Business information")
        _InformationHeading(t("Business information"))
        link = _Links[theme.on_accent]
        if email:
            link(email, f"mailto:{email}")
        if settings.support_phone:
            link(settings.support_phone, tel_url(settings.support_phone))
        if settings.address:
            _Address(settings.address)
        if links:
            with _PolicyLinks():
                for url, label in links:
                    link(label, url, new_tab=True)
