"""`/p/login/{handle}`: the merchant's portal sign-in page, where a customer asks for a link with their email.

The answer is the same neutral sentence for every well-formed address, shown before anything looks the address up:
the lookup, the rate limits and the mail run afterwards in a worker thread (app/services/portal_sign_in.py), so the
text, the status and the time of the answer say nothing about whether the address has an account.
"""

from __future__ import annotations

from fastapi import Request
from nicegui import background_tasks, run, ui

from app.context import AppContext
from app.errors import EmailTaken, LinkError, LinkExpired, LinkRevoked, LinkUsed
from app.i18n import N_, negotiate_locale
from app.services.portal.email_change import confirm_email_change
from app.services.portal_sign_in import NEUTRAL_ANSWER, check_sign_in_email, merchant_by_handle, request_sign_in_link
from components.portal.text import PortalText
from pages.actors import client_address, portal_actor
from pages.customer_brand import Brand, branded_card, merchant_brand, support_contact
from server.page_limits import address_group

NOT_FOUND_TITLE = "This sign-in page does not exist"
NOT_FOUND_EXPLANATION = "Check the address, or use the link to your account that the business sent you."


def register(context: AppContext) -> None:
    register_confirmation(context)

    @ui.page("/p/login/{handle}", title="Sign in")
    def sign_in_page(handle: str, request: Request) -> None:
        with context.database.transaction() as session:
            merchant = merchant_by_handle(session=session, handle=handle)
        brand = merchant_brand(context, merchant.merchant_id if merchant else None)
        t = PortalText(negotiate_locale("", request.headers.get("accept-language", "")), brand.time_zone)
        if merchant is None:
            ui.status_code(404)
            with branded_card(brand, t, t(NOT_FOUND_TITLE)):
                ui.label(t(NOT_FOUND_TITLE)).classes("text-h5").props('role="heading" aria-level="1"')
                ui.label(t(NOT_FOUND_EXPLANATION)).classes("text-body1")
            return
        title = t("Sign in to {business}", business=brand.business_name)
        with branded_card(brand, t, title):
            ui.label(title).classes("text-h5").props('role="heading" aria-level="1"')
            ui.label(t("Enter the email address of your account and we'll send you a link to manage it.")).classes(
                "text-body1"
            )
            sign_in_form(context, merchant.merchant_id, brand, t)
            support_contact(brand, t)


CONFIRM_PROBLEMS: dict[type[LinkError], tuple[str, str]] = {
    LinkExpired: (
        N_("This confirmation link has expired"),
        N_("Your email address was not changed. Change it again in the portal to get a new link."),
    ),
    LinkUsed: (N_("This email address is already confirmed"), N_("There is nothing more to do.")),
    LinkRevoked: (
        N_("This email change was canceled"),
        N_("Your email address was not changed. A newer change, or a cancellation in the portal, replaced it."),
    ),
    EmailTaken: (
        N_("This email address is in use"),
        N_("Your email address was not changed: another customer account has this address. Contact us to sort it out."),
    ),
}
CONFIRM_INVALID = (
    N_("This link is not valid"),
    N_("Open the link again from the email you received, making sure you copy the whole address."),
)


def register_confirmation(context: AppContext) -> None:
    @ui.page("/p/confirm-email/{token}", title="Confirm your email address")
    def confirm_email_page(token: str, request: Request) -> None:
        """Opening the link sent to a new billing email address is the confirmation (once, within 24 hours)."""
        try:
            with context.database.transaction() as session:
                confirmed = confirm_email_change(
                    session=session,
                    settings=context.settings,
                    token=token,
                    actor=portal_actor(request),
                    clock=context.clock,
                )
        except LinkError as error:
            brand = merchant_brand(context, error.merchant_id)
            t = PortalText(negotiate_locale("", request.headers.get("accept-language", "")), brand.time_zone)
            title, explanation = CONFIRM_PROBLEMS.get(type(error), CONFIRM_INVALID)
            with branded_card(brand, t, t(title)):
                ui.label(t(title)).classes("text-h5").props('role="heading" aria-level="1"')
                ui.label(t(explanation)).classes("text-body1")
                support_contact(brand, t)
            return
        brand = merchant_brand(context, confirmed.merchant_id)
        t = PortalText(negotiate_locale("", request.headers.get("accept-language", "")), brand.time_zone)
        with branded_card(brand, t, t("Email address confirmed")):
            ui.icon("mark_email_read", size="xl", color="primary").props('aria-hidden="true"')
            ui.label(t("Email address confirmed")).classes("text-h5").props('role="heading" aria-level="1"')
            ui.label(
                t(
                    "Your email address with {business} is now {email}.",
                    business=brand.business_name,
                    email=confirmed.email,
                )
            ).classes("text-body1")


def sign_in_form(context: AppContext, merchant_id: str, brand: Brand, t: PortalText) -> None:
    """Email + "Send me a link"; every well-formed address gets the same answer at once, the work happens after."""
    request = ui.context.client.request
    actor = portal_actor(request)
    client = address_group(client_address(request))

    def send(address: str) -> None:
        request_sign_in_link(
            database=context.database,
            settings=context.settings,
            merchant_id=merchant_id,
            email=address,
            client_address=client,
            locale=t.locale,
            actor=actor,
            clock=context.clock,
        )

    def submit() -> None:
        address = str(email.value or "").strip()
        problem = check_sign_in_email(address)
        email.error = t(problem) if problem else None
        if problem:
            answer.set_text("")
            return
        answer.set_text(t(NEUTRAL_ANSWER, business=brand.business_name))
        background_tasks.create(run.io_bound(send, address), name="portal-sign-in")

    email = (
        ui.input(t("Email"))
        .props('outlined type=email autocomplete=email maxlength=254 inputmode=email spellcheck="false"')
        .classes("w-full")
        .without_auto_validation()
    )
    email.on("keydown.enter", submit)
    ui.button(t("Send me a link"), icon="mail", on_click=submit).props(
        f"unelevated no-caps color=brand text-color={brand.text_color}"
    )
    answer = ui.label().classes("text-body1").props('role="status" aria-live="polite"')
