"""Page frames: the merchant dashboard shell, shared by every signed-in page, and the customer portal's page."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

from app.views import PortalView
from components.portal.base import PortalTheme

MERCHANT_NAV = (
    ("Customers", "/customers", "group"),
    ("Emails", "/emails", "mail"),
    ("Activity", "/activity", "history"),
    ("Customer portal", "/settings/portal", "web"),
    ("Branding", "/settings/branding", "palette"),
    ("Billing", "/settings/billing", "payments"),
    ("Account details", "/settings/account", "business"),
    ("Developers", "/developers", "code"),
)
MERCHANT_PRIMARY = "#635bff"


@contextmanager
def merchant_frame(title: str, *, business_name: str, user_email: str, on_logout: Callable[[], None]) -> Iterator[None]:
    """Header with navigation and sign-out; the page's content goes in the `with` body."""
    ui.colors(primary=MERCHANT_PRIMARY)
    ui.page_title(f"{title} · {business_name}")
    with ui.header(elevated=False).classes("bg-white text-grey-9 border-b items-center q-px-md gap-2 flex-wrap"):
        ui.label(business_name).classes("text-subtitle1 text-weight-bold q-mr-md")
        with ui.element("nav").props('aria-label="Main"').classes("row items-center gap-1 flex-wrap"):
            for label, target, icon in MERCHANT_NAV:
                ui.button(label, icon=icon, on_click=lambda target=target: ui.navigate.to(target)).props(
                    "flat no-caps dense"
                ).classes("q-px-sm")
        ui.space()
        ui.label(user_email).classes("text-caption text-grey-7 gt-xs")
        ui.button("Sign out", icon="logout", on_click=on_logout).props("flat no-caps dense")
    with ui.element("main").classes("w-full max-w-screen-xl mx-auto q-pa-md"):
        ui.label(title).classes("text-h5 q-mb-md").props('role="heading" aria-level="1"')
        yield


@contextmanager
def portal_frame(view: PortalView) -> Iterator[None]:
    """The page around the customer portal, live or previewed: title, brand colour, browser-tab icon, full bleed."""
    ui.page_title(view.business_name)
    ui.colors(primary=PortalTheme.of(view.settings).brand)
    if view.icon_src:
        ui.add_head_html(f'<link rel="icon" type="image/png" href="{html.escape(view.icon_src, quote=True)}">')
    ui.query("body").classes("bg-white")
    ui.query(".nicegui-content").classes("p-0")
    with ui.element("main").classes("w-full min-h-screen flex"):
        yield
