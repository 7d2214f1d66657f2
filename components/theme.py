"""Page frames: the merchant dashboard shell, shared by every signed-in page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

MERCHANT_NAV = (
    ("Customers", "/customers", "group"),
    ("Activity", "/activity", "history"),
    ("Customer portal", "/settings/portal", "web"),
    ("Branding", "/settings/branding", "palette"),
    ("Billing", "/settings/billing", "payments"),
    ("Account details", "/settings/account", "business"),
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
