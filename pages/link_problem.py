"""The page a customer sees when a portal link cannot be used: expired, revoked or not valid, in the merchant's look.

Expired and revoked links name a real customer, so the page offers "Email me a new link" (sent to the address on
file, never shown). Invalid links name nobody: the page explains what to check and whom to ask.
"""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import run, ui

from app.context import AppContext
from app.enums import NewLinkOutcome
from app.errors import DeliveryFailed, LinkError, LinkExpired, LinkInvalid, LinkRevoked, NotFound
from app.formatting import tel_url
from app.i18n import negotiate_locale
from app.services.merchants import get_account_details
from app.services.portal_links import request_new_link
from app.services.portal_settings import branding_image_url, get_portal_settings
from components.portal.base import DEFAULT_ACCENT, DEFAULT_BRAND, PortalTheme
from components.portal.text import PortalText
from components.theme import page_colors
from pages.actors import portal_actor
from server.nicegui_internals import set_page_language


@dataclass(frozen=True, slots=True)
class Problem:
    icon: str
    title: str
    explanation: str


PROBLEMS: dict[type[LinkError], Problem] = {
    LinkExpired: Problem(
        "schedule",
        "This link has expired",
        "For your security, links to manage your account only work for a limited time.",
    ),
    LinkRevoked: Problem(
        "link_off",
        "This link is no longer valid",
        "This link has been turned off. Links you receive later are not affected.",
    ),
}
INVALID = Problem(
    "error_outline",
    "This link is not valid",
    "The address may be incomplete or mistyped. Open the link again from the message you received, "
    "making sure you copy the whole address.",
)


@dataclass(frozen=True, slots=True)
class Brand:
    """What the page shows of the merchant, when the link names one."""

    business_name: str = ""
    theme: PortalTheme | None = None
    icon_src: str | None = None
    support_email: str = ""
    support_phone: str = ""
    website: str = ""
    time_zone: str = "UTC"


def _brand(context: AppContext, merchant_id: str | None) -> Brand:
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


def show_link_problem(context: AppContext, error: LinkError) -> None:
    """Say what happened and what to do next, in the merchant's branding when known; never a stack trace."""
    brand = _brand(context, None if isinstance(error, LinkInvalid) else error.merchant_id)
    request = ui.context.client.request
    t = PortalText(negotiate_locale("", request.headers.get("accept-language", "")), brand.time_zone)
    problem = PROBLEMS.get(type(error), INVALID)
    business = brand.business_name or t("the business that sent you the link")
    can_email = type(error) in PROBLEMS and error.customer_id is not None and brand.business_name

    ui.page_title(t(problem.title))
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
        ui.icon(problem.icon, size="xl", color="primary").props('aria-hidden="true"')
        ui.label(t(problem.title)).classes("text-h5").props('role="heading" aria-level="1"')
        ui.label(t(problem.explanation)).classes("text-body1")
        if can_email:
            ui.label(t("We can email a new link to the address {business} has on file for you.", business=business))
            _email_me_a_new_link(context, error, brand, t, business)
        else:
            ui.label(t("Please ask {business} for a new link.", business=business))
        _support_contact(brand, t)


def _email_me_a_new_link(context: AppContext, error: LinkError, brand: Brand, t: PortalText, business: str) -> None:
    actor = portal_actor(ui.context.client.request)
    text_color = brand.theme.text_color_prop if brand.theme else "white"

    def send() -> NewLinkOutcome:
        with context.database.transaction() as session:
            return request_new_link(
                session=session, settings=context.settings, error=error, actor=actor, clock=context.clock
            )

    async def clicked() -> None:
        button.disable()
        try:
            outcome = await run.io_bound(send)
        except DeliveryFailed:
            result.set_text(
                t(
                    "We could not send the email right now. Please try again later or contact {business}.",
                    business=business,
                )
            )
            button.enable()
            return
        messages = {
            NewLinkOutcome.SENT: t(
                "Done. Check your inbox: the email with your new link should arrive in a few minutes."
            ),
            NewLinkOutcome.RECENTLY_SENT: t(
                "We sent you a new link a few minutes ago. Check your inbox and spam folder; "
                "you can ask again after 10 minutes."
            ),
            NewLinkOutcome.NO_EMAIL: t(
                "We cannot email you a new link. Please ask {business} for one.", business=business
            ),
        }
        result.set_text(messages[outcome])

    button = ui.button(t("Email me a new link"), icon="mail", on_click=clicked).props(
        f"unelevated no-caps color=brand text-color={text_color}"
    )
    result = ui.label().classes("text-body2").props('role="status" aria-live="polite"')


def _support_contact(brand: Brand, t: PortalText) -> None:
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
