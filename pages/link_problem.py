"""The page a customer sees when a portal link cannot be used: expired, revoked or not valid, in the merchant's look.

Expired and revoked links name a real customer, so the page offers "Email me a new link" (sent to the address on
file, never shown); a used sign-in link offers the merchant's sign-in form. Invalid links name nobody: the page
explains what to check and whom to ask.
"""

from __future__ import annotations

from dataclasses import dataclass

from nicegui import run, ui

from app.context import AppContext
from app.enums import NewLinkOutcome
from app.errors import LinkError, LinkExpired, LinkInvalid, LinkRevoked, LinkUsed, Unavailable
from app.i18n import negotiate_locale
from app.services.portal_links import request_new_link
from components.portal.text import PortalText
from pages.actors import portal_actor
from pages.customer_brand import Brand, branded_card, merchant_brand, support_contact
from pages.portal_sign_in import sign_in_form


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
    LinkUsed: Problem(
        "task_alt",
        "This link has already been used",
        "For your security, a sign-in link works only once.",
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


def show_link_problem(context: AppContext, error: LinkError) -> None:
    """Say what happened and what to do next, in the merchant's branding when known; never a stack trace."""
    brand = merchant_brand(context, None if isinstance(error, LinkInvalid) else error.merchant_id)
    request = ui.context.client.request
    t = PortalText(negotiate_locale("", request.headers.get("accept-language", "")), brand.time_zone)
    problem = PROBLEMS.get(type(error), INVALID)
    business = brand.business_name or t("the business that sent you the link")
    can_email = type(error) in PROBLEMS and error.customer_id is not None and brand.business_name

    with branded_card(brand, t, t(problem.title)):
        ui.icon(problem.icon, size="xl", color="primary").props('aria-hidden="true"')
        ui.label(t(problem.title)).classes("text-h5").props('role="heading" aria-level="1"')
        ui.label(t(problem.explanation)).classes("text-body1")
        if isinstance(error, LinkUsed) and error.merchant_id is not None and brand.business_name:
            ui.label(t("Enter your email and we'll send you a new link.")).classes("text-body1")
            sign_in_form(context, error.merchant_id, brand, t)
        elif can_email:
            ui.label(t("We can email a new link to the address {business} has on file for you.", business=business))
            _email_me_a_new_link(context, error, brand, t, business)
        else:
            ui.label(t("Please ask {business} for a new link.", business=business))
        support_contact(brand, t)


def _email_me_a_new_link(context: AppContext, error: LinkError, brand: Brand, t: PortalText, business: str) -> None:
    actor = portal_actor(ui.context.client.request)
    text_color = brand.text_color

    def send() -> NewLinkOutcome:
        with context.database.transaction() as session:
            return request_new_link(
                session=session, settings=context.settings, error=error, actor=actor, clock=context.clock
            )

    async def clicked() -> None:
        button.disable()
        try:
            outcome = await run.io_bound(send)
        except Unavailable:  # the mail is queued in the database; only the database can fail here
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
