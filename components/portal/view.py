"""`portal_view(view, actions)`: the whole customer portal, for real customers and the settings preview alike."""

from __future__ import annotations

from dataclasses import replace

from nicegui import ui

from app.views import PortalView
from components.portal.actions import PortalActions
from components.portal.base import Portal
from components.portal.billing import billing_section, shipping_section
from components.portal.business import business_panel
from components.portal.invoices import invoices_section
from components.portal.payment_methods import payment_methods_section
from components.portal.subscriptions import subscriptions_section


class _PortalScreen:
    """Keeps the view on screen up to date: after an action, the customer's data is reloaded and re-rendered."""

    def __init__(self, view: PortalView, actions: PortalActions) -> None:
        self.view = view
        self.actions = actions

    def reload(self) -> None:
        """Fresh customer data; settings, language and the plans on offer stay as this portal opened with."""
        fresh = self.actions.reload()
        self.view = replace(self.view, data=replace(fresh, available_prices=self.view.data.available_prices))
        self.render.refresh()

    def switch_locale(self, locale: str) -> None:
        if locale and locale != self.view.locale:
            self.view = replace(self.view, locale=locale)
            self.render.refresh()

    @ui.refreshable_method
    def render(self) -> None:
        portal = Portal(self.view, self.actions, on_change=self.reload)
        settings, theme = self.view.settings, portal.theme
        with (
            ui.element("div")
            .classes("w-full @container portal")
            .style(theme.scope_style)
            .props(f'lang="{_html_lang(self.view.locale)}"'),
            ui.element("div").classes("w-full flex flex-col @3xl:flex-row items-stretch"),
        ):
            with (
                ui.element("div")
                .classes("w-full @3xl:w-5/12 @3xl:max-w-md q-pa-lg @3xl:p-12")
                .style(f"background-color: {theme.accent}; color: {theme.on_accent}")
            ):
                business_panel(portal, self.switch_locale)
            with (
                ui.element("div").classes("flex-1 min-w-0 bg-white text-grey-10 q-px-lg q-pb-lg @3xl:px-12"),
                ui.element("div").classes("w-full max-w-3xl"),
            ):
                subscriptions_section(portal)
                if settings.payment_method_update:
                    payment_methods_section(portal)
                if settings.billing_details_update and settings.billing_fields:
                    billing_section(portal)
                if settings.shipping_information:
                    shipping_section(portal)
                if settings.invoice_history:
                    invoices_section(portal)


def _html_lang(locale: str) -> str:
    """BCP 47 tag for the `lang` attribute (`zh_Hans_CN` -> `zh-Hans-CN`); only letters, digits and dashes."""
    return "".join(char for char in locale.replace("_", "-") if char.isalnum() or char == "-")


def portal_view(view: PortalView, actions: PortalActions) -> None:
    """Render the portal into the current container: pure (all data from `view`, all behaviour via `actions`)."""
    _PortalScreen(view, actions).render()
