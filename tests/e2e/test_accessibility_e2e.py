"""axe-core on every page, with its dialogs open, at desktop and phone widths: no serious or critical violation and
no landmark problem. Plus the keyboard: dialogs trap focus and give it back, and `<html lang>` follows the portal.

To cover a new page, add a `Screen` to `SCREENS` (a path, or a function that makes one from the server's data,
and the clicks that open what should be checked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.colors import readable_color_on
from app.models import Customer, EmailChange, Merchant, PortalSettings, SubscriptionStatus, utcnow
from tests.e2e.accessibility import axe_violations, describe
from tests.e2e.conftest import log_in
from tests.e2e.site import MERCHANT, Site, customer_id, forget_retention_offer, own_site, portal_link

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server of its own: the other browser tests change settings and data that these pages show."""
    with own_site(tmp_path_factory.mktemp("a11y-data")) as site:
        yield site


def portal(site: Site) -> str:
    return portal_link(site)


def paused_portal(site: Site) -> str:
    return portal_link(site, SubscriptionStatus.PAUSED)


def past_due_portal(site: Site) -> str:
    """A customer who owes an invoice: the subscription's card shows Pay $X."""
    return portal_link(site, SubscriptionStatus.PAST_DUE)


def canceled_portal(site: Site) -> str:
    return portal_link(site, SubscriptionStatus.CANCELED, skip=2)


def retention_portal(site: Site) -> str:
    """A customer who has not been made the retention offer yet: Cancel subscription opens the offer."""
    forget_retention_offer(site, customer_id(site, skip=6))
    return portal_link(site, skip=6)


def credit_portal(site: Site) -> str:
    with site.database.transaction() as session:
        customer = session.get_one(Customer, customer_id(site, skip=7))
        customer.credit_balance, customer.credit_currency = 1500, "USD"
    return portal_link(site, skip=7)


def expired_link(site: Site) -> str:
    return portal_link(site, age=timedelta(days=3))


def revoked_link(site: Site) -> str:
    return portal_link(site, revoked=True)


def pending_email_portal(site: Site) -> str:
    """A portal whose customer changed the billing email and has not confirmed it yet."""
    path = portal_link(site, skip=1)
    with site.database.transaction() as session:
        customer = session.get_one(Customer, customer_id(site, skip=1))
        session.add(
            EmailChange(
                merchant_id=customer.merchant_id,
                customer_id=customer.id,
                old_email=customer.email,
                new_email="new.address@example.com",
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=24),
            )
        )
    return path


def customer_page(site: Site) -> str:
    return f"/customers/{customer_id(site)}"


def click(name: str, *, within: str | None = None, opens_dialog: bool = True) -> Callable[[Page], None]:
    """Click the button `name` (in the region `within`), and wait for the dialog it opens."""

    def act(page: Page) -> None:
        scope = page.get_by_role("region", name=within) if within else page
        scope.get_by_role("button", name=name).first.click()
        if opens_dialog:
            expect(page.get_by_role("dialog")).to_be_visible()

    return act


def show_preview_on_phone(page: Page) -> None:
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("region", name="Portal preview")).to_be_visible()


def ask_for_a_link(page: Page) -> None:
    page.get_by_label("Email").fill("someone@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("we've sent a link to it")


def settled(page: Page) -> None:
    """Wait until transitions (a dialog fading in) are over: mid-fade, colours are not what people will read."""
    page.wait_for_function("() => document.getAnimations().every(animation => animation.playState !== 'running')")


@dataclass(frozen=True)
class Screen:
    id: str
    path: str | Callable[[Site], str]
    actions: tuple[Callable[[Page], None], ...] = ()
    signed_in: bool = True
    viewport: dict[str, int] = field(default_factory=lambda: DESKTOP)
    ready: str = ""  # a role=heading name to wait for before checking (the page has rendered)


# The portal's states and dialogs: name, whose portal, what to open.
def card_element(page: Page) -> None:
    expect(page.get_by_role("region", name="Payment method").get_by_label("Card number")).to_be_visible()


PORTAL_STATES: list[tuple[str, Callable[[Site], str], tuple[Callable[[Page], None], ...]]] = [
    ("active", portal, ()),
    ("paused", paused_portal, ()),
    ("past-due-pay", past_due_portal, (click("Pay $", within="Subscriptions"),)),
    ("cancel", portal, (click("Cancel subscription", within="Subscriptions"),)),
    ("switch-plan", portal, (click("Update subscription", within="Subscriptions"),)),
    ("pause", portal, (click("Pause subscription", within="Subscriptions"),)),
    ("resubscribe", canceled_portal, (click("Resubscribe", within="Subscriptions"),)),
    ("retention-offer", retention_portal, (click("Cancel subscription", within="Subscriptions"),)),
    ("credit-balance", credit_portal, ()),
    # The add-card form opens in place (a modal would trap the focus away from the bank's 3-D Secure page), with
    # the gateway's card element mounted in it.
    ("add-card", portal, (click("Add payment method", within="Payment method", opens_dialog=False), card_element)),
    ("billing-details", portal, (click("Update billing details", within="Billing details"),)),
    ("shipping", portal, (click("Update shipping information", within="Shipping information"),)),
    ("invoice", portal, (click("View invoice", within="Invoice history"),)),
]
SCREENS = [
    # The merchant's dashboard (and its sign-in page).
    Screen("sign-in", "/login", signed_in=False, ready="Sign in to your dashboard"),
    Screen("customers", "/customers", ready="Customers"),
    Screen("customers-phone", "/customers", viewport=PHONE, ready="Customers"),
    Screen("customer", customer_page),
    Screen("customer-copy-url-revoke", customer_page, (click("Copy url", opens_dialog=False), click("Revoke"))),
    Screen("customers-new-customer", "/customers", (click("New customer"),), ready="Customers"),
    Screen("customers-import", "/customers", (click("Import"),), ready="Customers"),
    Screen("customer-edit", customer_page, (click("Edit"),)),
    Screen("customer-start-subscription", customer_page, (click("Start subscription"),)),
    Screen("customer-start-subscription-phone", customer_page, (click("Start subscription"),), viewport=PHONE),
    Screen("products", "/products", ready="Products"),
    Screen("products-phone", "/products", viewport=PHONE, ready="Products"),
    Screen("products-new-product", "/products", (click("New product"),), ready="Products"),
    Screen("products-add-price", "/products", (click("Add price"),), ready="Products"),
    Screen("products-archive", "/products", (click("Archive"),), ready="Products"),
    Screen("emails", "/emails", ready="Emails"),
    Screen("activity", "/activity", ready="Activity"),
    Screen("portal-settings", "/settings/portal", ready="Customer portal"),
    Screen("portal-settings-phone-preview", "/settings/portal", (show_preview_on_phone,), viewport=PHONE),
    Screen("branding", "/settings/branding", ready="Branding"),
    Screen("billing", "/settings/billing", ready="Billing"),
    Screen("account", "/settings/account", ready="Account details"),
    Screen("developers", "/developers", ready="Developers"),
    Screen("developers-add-endpoint", "/developers", (click("Add endpoint"),)),
    # The customer portal, at both widths, in each state, with each dialog open.
    *(
        # Ready with its last section: the ones below the fold are built once the page's websocket connects.
        Screen(f"portal-{name}{width}", path, actions, signed_in=False, viewport=viewport, ready="Invoice history")
        for width, viewport in (("", DESKTOP), ("-phone", PHONE))
        for name, path, actions in PORTAL_STATES
    ),
    # What a customer sees when a link cannot be used.
    Screen("link-expired", expired_link, signed_in=False, ready="This link has expired"),
    Screen("link-revoked", revoked_link, signed_in=False, ready="This link is no longer valid"),
    Screen("link-invalid", "/portal/not-a-real-token", signed_in=False, ready="This link is not valid"),
    Screen("link-expired-phone", expired_link, signed_in=False, viewport=PHONE, ready="This link has expired"),
    # Customers on their own: the merchant's sign-in page (asked, answered), and a new email waiting.
    Screen("portal-sign-in", "/p/login/acme", signed_in=False, ready="Sign in to Acme Cloud"),
    Screen("portal-sign-in-phone", "/p/login/acme", (ask_for_a_link,), signed_in=False, viewport=PHONE),
    Screen(
        "portal-sign-in-unknown", "/p/login/no-such-shop", signed_in=False, ready="This sign-in page does not exist"
    ),
    Screen("portal-pending-email", pending_email_portal, signed_in=False, ready="Billing details"),
    Screen(
        "portal-pending-email-phone", pending_email_portal, signed_in=False, viewport=PHONE, ready="Billing details"
    ),
]


@pytest.mark.parametrize("screen", SCREENS, ids=[screen.id for screen in SCREENS])
def test_no_serious_violations_and_sound_landmarks(page: Page, site: Site, screen: Screen) -> None:
    page.set_viewport_size(screen.viewport)
    path = screen.path(site) if callable(screen.path) else screen.path
    if screen.signed_in:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        log_in(page, site.url, path)
    else:
        page.goto(site.url + path)
    if screen.ready:
        expect(page.get_by_role("heading", name=screen.ready, exact=True).first).to_be_visible()
    else:
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
    for action in screen.actions:
        action(page)
    settled(page)
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_html_lang_follows_the_portal_language(page: Page, site: Site) -> None:
    page.goto(site.url + portal_link(site, locale="de_DE"))
    expect(page.get_by_role("region", name="Abonnements")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de-DE")
    page.get_by_label("Sprache").click()
    page.get_by_role("option", name="Français").click()
    expect(page.get_by_label("Langue")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.reload()
    expect(page.get_by_label("Langue")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_merchant_pages_are_english(page: Page, site: Site) -> None:
    log_in(page, site.url, "/customers")
    expect(page.locator("html")).to_have_attribute("lang", "en-US")


FOCUS_IN_DIALOG = "() => !!document.activeElement?.closest('[role=dialog]')"


def _focus_is_inside_dialog(page: Page) -> bool:
    return bool(page.evaluate(FOCUS_IN_DIALOG))


def test_dialogs_trap_focus_and_return_it_by_keyboard(page: Page, site: Site) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(site.url + portal(site))
    subscriptions = page.get_by_role("region", name="Subscriptions")
    opener = subscriptions.get_by_role("button", name="Cancel subscription").first
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_be_visible()
    page.wait_for_function(FOCUS_IN_DIALOG)
    for _ in range(25):  # more stops than the dialog has: focus must wrap around inside it
        page.keyboard.press("Tab")
        assert _focus_is_inside_dialog(page)
    for _ in range(25):
        page.keyboard.press("Shift+Tab")
        assert _focus_is_inside_dialog(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # The same through the dialog's own button, pressed with the keyboard.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep subscription").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


FOCUS_WITHIN = "element => element.contains(document.activeElement)"


@pytest.mark.parametrize("by_keyboard", [True, False], ids=["keyboard", "mouse"])
def test_declining_the_retention_offer_leads_to_a_cancel_dialog_that_returns_the_focus(
    page: Page, site: Site, by_keyboard: bool
) -> None:
    """Two dialogs in a row, the second opened from the first: closing the second gives the focus back to the button
    that opened the first (a mouse click leaves it on the button's focus helper, inside the button)."""

    def press(button: Locator) -> None:
        if by_keyboard:
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.click()

    page.set_viewport_size(DESKTOP)
    page.goto(site.url + retention_portal(site))
    opener = page.get_by_role("region", name="Subscriptions").get_by_role("button", name="Cancel subscription").first
    press(opener)
    dialog = page.get_by_role("dialog")
    press(dialog.get_by_role("button", name="No thanks, cancel"))
    expect(dialog.get_by_role("heading", name=re.compile(r"^Cancel .+\?$"))).to_be_visible()
    page.wait_for_function(FOCUS_IN_DIALOG)
    press(dialog.get_by_role("button", name="Keep subscription"))
    expect(dialog).to_be_hidden()
    page.wait_for_function(FOCUS_WITHIN, arg=opener.element_handle(), timeout=5_000)


def test_focus_is_visible_in_the_brand_colour(page: Page, site: Site) -> None:
    with site.database.transaction() as session:
        brand = session.scalars(
            select(PortalSettings.brand_color).join(Merchant).where(Merchant.public_business_name == MERCHANT)
        ).one()
    ring = readable_color_on(brand)
    expected = "rgb({}, {}, {})".format(*(int(ring[index : index + 2], 16) for index in (1, 3, 5)))
    page.set_viewport_size(DESKTOP)
    page.goto(site.url + portal(site))
    button = page.get_by_role("region", name="Subscriptions").get_by_role("button", name="Cancel subscription").first
    expect(button).to_be_visible()
    page.keyboard.press("Tab")  # the keyboard is in use: programmatic focus now shows as focus-visible
    button.focus()
    style = button.evaluate(
        "element => [getComputedStyle(element).outlineStyle, getComputedStyle(element).outlineColor]"
    )
    assert style == ["solid", expected]
