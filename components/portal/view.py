"""`portal_view(view, actions)`: the whole customer portal, for real customers and the settings preview alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from nicegui import background_tasks, context, ui

from app.views import PortalView
from components.portal.actions import PortalActions
from components.portal.base import Portal, PortalTheme
from components.portal.billing import billing_section, shipping_section
from components.portal.business import business_panel
from components.portal.invoices import invoices_section
from components.portal.payment_methods import payment_methods_section
from components.portal.subscriptions import subscriptions_section
from components.presets import preset

# Which inputs each part of the portal reads: a part is rebuilt only when its inputs change, so that the settings
# page's live preview re-renders a toggled section or the edited business panel, not the whole portal.
_SECTION_SWITCHES: dict[str, tuple[str, ...]] = {
    "subscriptions": (
        "cancel_subscriptions",
        "cancel_mode",
        "cancellation_reasons",
        "plan_switching",
        "switchable_price_ids",
        "downgrades_at_period_end",
        "pause_subscriptions",
        "pause_durations",
        "resubscribe",
        "resubscribe_price_choice",
        "retention_offer",
        "retention_discount_kind",
        "retention_discount_value",
        "retention_periods",
    ),
    "payment_methods": ("payment_method_update",),
    "billing": ("billing_details_update", "billing_fields"),
    "shipping": ("shipping_information",),
    "invoices": ("invoice_history",),
}
# Below the fold on a phone and on a desktop screen: built once the page's browser has connected. Link scanners,
# mail previews and closed tabs never connect, and most of a portal page's cost (the invoice list above all) is
# then never paid; a browser gets these sections over its websocket a moment after the page has shown.
_AFTER_CONNECTING = frozenset({"billing", "shipping", "invoices"})
_PANEL_FIELDS = (
    "headline",
    "support_email",
    "support_phone",
    "address",
    "website_url",
    "terms_url",
    "privacy_url",
)

# The portal's frame of containers, built on every page (see `preset`).
_Root = preset(ui.element, classes="w-full @container portal")
_Columns = preset(ui.element, classes="w-full flex flex-col @3xl:flex-row items-stretch")
_PanelColumn = preset(ui.element, classes="w-full @3xl:w-5/12 @3xl:max-w-md q-pa-lg @3xl:p-12")
_SectionsColumn = preset(ui.element, classes="flex-1 min-w-0 bg-white text-grey-10 q-px-lg q-pb-lg @3xl:px-12")
_SectionsWidth = preset(ui.element, classes="w-full max-w-3xl")
_Part = preset(ui.element, classes="w-full")


def _shared_inputs(view: PortalView) -> tuple[object, ...]:
    """What every part reads: colours, language, time zone, preview mode and the customer's data."""
    settings = view.settings
    return (settings.brand_color, settings.accent_color, view.locale, view.time_zone, view.is_preview, view.data)


def _part_inputs(view: PortalView, part: str) -> tuple[object, ...]:
    settings = view.settings
    if part == "panel":
        own = (view.business_name, view.icon_src, view.logo_src, view.return_url)
        return own + tuple(getattr(settings, name) for name in _PANEL_FIELDS) + _shared_inputs(view)
    return tuple(getattr(settings, name) for name in _SECTION_SWITCHES[part]) + _shared_inputs(view)


def _render_section(part: str, portal: Portal) -> None:
    settings = portal.view.settings
    if part == "subscriptions":
        subscriptions_section(portal)
    elif part == "payment_methods" and settings.payment_method_update:
        payment_methods_section(portal)
    elif part == "billing" and settings.billing_details_update and settings.billing_fields:
        billing_section(portal)
    elif part == "shipping" and settings.shipping_information:
        shipping_section(portal)
    elif part == "invoices" and settings.invoice_history:
        invoices_section(portal)


class PortalScreen:
    """The portal on screen; `show` brings it to a new view, rebuilding only the parts whose inputs changed."""

    def __init__(
        self, view: PortalView, actions: PortalActions, on_locale: Callable[[str], None] | None = None
    ) -> None:
        self.view = view
        self.actions = actions
        self._on_locale = on_locale
        self._inputs: dict[str, tuple[object, ...]] = {}
        self._client = context.client
        self._waits_for_connection = False
        theme = PortalTheme.of(view.settings)
        with _Root() as self._root, _Columns():
            self._panel = _PanelColumn()
            with _SectionsColumn(), _SectionsWidth():
                self._sections = {part: _Part() for part in _SECTION_SWITCHES}
        self._apply_theme(theme)
        self._build(view, actions)
        if not self._waits_for_connection:  # else the sections built later may still open it
            self._task_done()

    def show(self, view: PortalView, actions: PortalActions | None = None) -> None:
        """Show `view` (and new `actions`, e.g. the preview's for another customer)."""
        self._build(view, actions or self.actions)

    def reload(self) -> None:
        """Fresh customer data after an action; settings, language and the plans on offer stay as they were."""
        fresh = self.actions.reload()
        self.show(replace(self.view, data=replace(fresh, available_prices=self.view.data.available_prices)))

    def switch_locale(self, locale: str) -> None:
        """The customer chose another language: show it, and tell `on_locale` (the page keeps it across reloads)."""
        if locale and locale != self.view.locale:
            self.show(replace(self.view, locale=locale))
            if self._on_locale is not None:
                self._on_locale(locale)

    def _build(self, view: PortalView, actions: PortalActions) -> None:
        if actions is not self.actions:
            self._inputs.clear()  # other actions (another previewed customer): every part is rebuilt
        self.view, self.actions = view, actions
        with self._root:  # the caller's slot may be gone: e.g. a button in a section that this call rebuilds
            portal = Portal(view, actions, on_change=self.reload)
        self._apply_theme(portal.theme)
        self._root.props["lang"] = _html_lang(view.locale)
        connected = self._client.has_socket_connection
        for part, container in (("panel", self._panel), *self._sections.items()):
            if part in _AFTER_CONNECTING and not connected:
                self._build_when_connected()
                continue
            inputs = _part_inputs(view, part)
            if self._inputs.get(part) == inputs:
                continue
            self._inputs[part] = inputs
            container.clear()
            with container:
                if part == "panel":
                    business_panel(portal, self.switch_locale)
                else:
                    _render_section(part, portal)

    def _build_when_connected(self) -> None:
        """Build the parts left out so far once the browser connects; nothing when the page is pruned unconnected."""
        if self._waits_for_connection:
            return
        self._waits_for_connection = True

        async def build() -> None:
            await self._client.connected()  # returns early when the client is deleted
            self._waits_for_connection = False
            if not self._client.is_deleted and not self._root.is_deleted:
                self._build(self.view, self.actions)
                self._task_done()

        background_tasks.create(build(), name=f"portal sections of {self._client.id}")

    def _task_done(self) -> None:
        """A deep link's task opens once, not again after each action."""
        self.view = replace(self.view, task=None)

    def _apply_theme(self, theme: PortalTheme) -> None:
        self._root.style(theme.scope_style)
        self._panel.style(f"background-color: {theme.accent}; color: {theme.on_accent}")


def _html_lang(locale: str) -> str:
    """BCP 47 tag for the `lang` attribute (`zh_Hans_CN` -> `zh-Hans-CN`); only letters, digits and dashes."""
    return "".join(char for char in locale.replace("_", "-") if char.isalnum() or char == "-")


def portal_view(
    view: PortalView, actions: PortalActions, *, on_locale: Callable[[str], None] | None = None
) -> PortalScreen:
    """Render the portal into the current container: pure (all data from `view`, all behaviour via `actions`).

    `on_locale` hears the customer's language switches. Keep the returned screen to show later views of the same
    portal cheaply (the settings page's live preview).
    """
    return PortalScreen(view, actions, on_locale)
