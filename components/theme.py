"""Page frames: the merchant dashboard shell, shared by every signed-in page, and the customer portal's page."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from app.views import PortalView
from components.portal.base import PortalTheme

MERCHANT_NAV = (
    ("Customers", "/customers", "group"),
    ("Products", "/products", "inventory_2"),
    ("Emails", "/emails", "mail"),
    ("Activity", "/activity", "history"),
    ("Customer portal", "/settings/portal", "web"),
    ("Branding", "/settings/branding", "palette"),
    ("Billing", "/settings/billing", "payments"),
    ("Account details", "/settings/account", "business"),
    ("Developers", "/developers", "code"),
)
MERCHANT_PRIMARY = "#635bff"  # 4.7:1 on white: readable as link and button text
SIGN_OUT_FIELD = "sign_out_token"
# Every page: links in the primary colour (NiceGUI's default blue is 3.7:1 on white), a focus ring in it (for the
# keyboard, over Quasar's `no-outline`: an !important in the first layer beats later layers' ones), filled brand
# buttons (`color=brand`), and code examples on white (Pygments' colours are made for it). The ring replaces
# Quasar's focus tint, under which a focused text button's label fell to 3.5:1. The button text in dialogs is
# lifted one level: axe-core otherwise reads it as lying under the dialog's backdrop (z-index -1 vs 0),
# and reports the backdrop's grey as its background, which nobody sees.
GLOBAL_STYLES = """
.nicegui-link { color: var(--q-primary); }
.bg-brand { background-color: var(--brand, var(--q-primary)); }
.nicegui-code { background-color: #ffffff; }
.q-dialog .q-btn__content { z-index: 1; }
body.desktop .q-focusable:focus > .q-focus-helper { opacity: 0; }
@layer theme {
  :focus-visible { outline: 2px solid var(--q-primary) !important; outline-offset: 2px; }
  .q-field__native:focus-visible, .q-dialog__inner:focus-visible, .q-card:focus-visible { outline: none !important; }
}
"""


# Quasar's green and light blue carry white text (notifications) at 2.6:1 and 2.2:1; these shades reach 5:1.
POSITIVE = "#1e7e34"
INFO = "#0b6e99"


def install_styles() -> None:
    """Add `GLOBAL_STYLES` and the readable palette to every page (once, when the routes are registered)."""
    app.colors(primary=MERCHANT_PRIMARY, positive=POSITIVE, info=INFO)
    ui.add_head_html(f"<style>{GLOBAL_STYLES}</style>", shared=True)


def page_colors(primary: str) -> None:
    """This page's primary colour, with the readable palette (a page's colours replace all of the app's)."""
    ui.colors(primary=primary, positive=POSITIVE, info=INFO)


@contextmanager
def merchant_frame(title: str, *, business_name: str, user_email: str, sign_out_token: str) -> Iterator[None]:
    """Header, navigation drawer and sign-out; the page's content goes in the `with` body.

    The drawer is a sidebar from 1024 px up and slides over the page below that, opened by the header's menu button.
    """
    page_colors(MERCHANT_PRIMARY)
    ui.page_title(f"{title} · {business_name}")
    current_path = ui.context.client.request.url.path if ui.context.client.request else ""
    with ui.header(elevated=False).classes("bg-white text-grey-9 border-b border-gray-200 items-center q-px-md gap-2"):
        menu = ui.button(icon="menu").props('flat round dense aria-label="Open navigation"').classes("lt-md")
        ui.label(business_name).classes("text-subtitle1 text-weight-bold ellipsis")
        ui.space()
        ui.label(user_email).classes("text-caption text-grey-7 gt-xs")
        sign_out_form(sign_out_token).props("flat no-caps dense")
    drawer = ui.left_drawer(bordered=True).props("width=232 breakpoint=1023").classes("bg-grey-1 q-pa-sm")
    with drawer, ui.element("nav").props('aria-label="Main"').classes("column gap-1 w-full"):
        for label, target, icon in MERCHANT_NAV:
            _nav_link(label, target, icon, current=current_path.startswith(target))
    menu.on_click(drawer.toggle)
    # Quasar's page is the one `main` landmark; the content only needs a width.
    with ui.element("div").classes("w-full max-w-screen-xl mx-auto q-pa-md"):
        ui.label(title).classes("text-h5 q-mb-md").props('role="heading" aria-level="1"')
        yield


def sign_out_form(token: str) -> ui.button:
    """A Sign out button that posts the browser's sign-out token to `/logout` (a form, so the browser sends it)."""
    with ui.element("form").props('method="post" action="/logout"'):
        hidden = ui.element("input").props(f'type="hidden" name="{SIGN_OUT_FIELD}"').mark("sign-out-token")
        hidden.props["value"] = token
        return ui.button("Sign out", icon="logout").props('type="submit"')


def _nav_link(label: str, target: str, icon: str, *, current: bool) -> None:
    """A real link (opens in a new tab with a middle click), marked as the current page for assistive technology."""
    tone = "bg-indigo-1 text-indigo-10 text-weight-medium" if current else "text-grey-9"
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
    page_colors(PortalTheme.of(view.settings).brand_text)
    if view.icon_src:
        ui.add_head_html(f'<link rel="icon" type="image/png" href="{html.escape(view.icon_src, quote=True)}">')
    ui.query("body").classes("bg-white")
    ui.query(".nicegui-content").classes("p-0")
    with ui.element("div").classes("w-full min-h-screen flex"):
        yield
