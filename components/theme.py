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
    """Header, navigation drawer and sign-out; the page's content goes in the `with` body.

    The drawer is a sidebar from 1024 px up and slides over the page below that, opened by the header's menu button.
    """
    ui.colors(primary=MERCHANT_PRIMARY)
    ui.page_title(f"{title} · {business_name}")
    current_path = ui.context.client.request.url.path if ui.context.client.request else ""
    with ui.header(elevated=False).classes("bg-white text-grey-9 border-b border-gray-200 items-center q-px-md gap-2"):
        menu = ui.button(icon="menu").props('flat round dense aria-label="Open navigation"').classes("lt-md")
        ui.label(business_name).classes("text-subtitle1 text-weight-bold ellipsis")
        ui.space()
        ui.label(user_email).classes("text-caption text-grey-7 gt-xs")
        ui.button("Sign out", icon="logout", on_click=on_logout).props("flat no-caps dense")
    drawer = ui.left_drawer(bordered=True).props("width=232 breakpoint=1023").classes("bg-grey-1 q-pa-sm")
    with drawer, ui.element("nav").props('aria-label="Main"').classes("column gap-1 w-full"):
        for label, target, icon in MERCHANT_NAV:
            _nav_link(label, target, icon, current=current_path.startswith(target))
    menu.on_click(drawer.toggle)
    with ui.element("main").classes("w-full max-w-screen-xl mx-auto q-pa-md"):
        ui.label(title).classes("text-h5 q-mb-md").props('role="heading" aria-level="1"')
        yield


def _nav_link(label: str, target: str, icon: str, *, current: bool) -> None:
    """A real link (opens in a new tab with a middle click), marked as the current page for assistive technology."""
    tone = "bg-indigo-1 text-primary text-weight-medium" if current else "text-grey-9"
    link = ui.link(target=target).classes(
        f"row items-center no-wrap gap-3 q-px-md q-py-sm rounded-borders no-underline hover:bg-indigo-50 {tone}"
    )
    if current:
        link.props["aria-current"] = "page"
    with link:
        ui.icon(icon, size="20px")
        ui.label(label)


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
