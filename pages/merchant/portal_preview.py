"""`/settings/portal/preview`: the draft a settings page sent, full page, as customers would see it."""

from __future__ import annotations

from nicegui import ui

from app.errors import LinkExpired, LinkInvalid, NotFound
from app.services.portal_preview import load_preview_customer, open_preview_token, preview_view
from app.services.portal_settings import branding_image_url
from components.portal import PreviewActions, portal_view
from components.theme import portal_frame
from pages.merchant.scaffold import MerchantPage
from server.nicegui_internals import set_page_language


def portal_preview_page(page: MerchantPage, token: str = "") -> None:
    """The draft a settings page sent, full page, as customers would see it; nothing here is saved."""
    context = page.context
    try:
        request = open_preview_token(
            settings=context.settings, token=token, merchant_id=page.merchant_id, clock=context.clock
        )
        with context.database.transaction() as session:
            subject = load_preview_customer(
                session=session, merchant_id=page.merchant_id, customer_id=request.customer_id, now=context.clock()
            )
    except LinkExpired:
        _preview_problem("This preview has expired", "Previews open for 15 minutes.")
        return
    except (LinkInvalid, NotFound):
        _preview_problem("This preview cannot be shown", "The preview link is incomplete or not for your account.")
        return
    draft = request.draft
    view = preview_view(
        draft=draft,
        account=page.account,
        data=subject.data,
        icon_src=branding_image_url(draft, "icon"),
        logo_src=branding_image_url(draft, "logo"),
    )
    set_page_language(view.locale)
    with (
        ui.element("div")
        .classes("w-full row items-center justify-center gap-x-3 q-pa-sm bg-orange-2 text-center")
        .props('role="status" lang="en"')  # the dashboard's words above the portal in its customer's language
    ):
        ui.label("Preview — not saved").classes("text-weight-bold")
        ui.label("Customers don't see these settings until you save them. Actions are disabled.").classes("text-body2")
    with portal_frame(view):
        portal_view(view, PreviewActions(subject.data, subject.invoices))


def _preview_problem(title: str, explanation: str) -> None:
    with ui.column().classes("absolute-center items-center gap-2 q-pa-md text-center"):
        ui.label(title).classes("text-h5").props('role="heading" aria-level="1"')
        ui.label(f"{explanation} Go back to the customer portal settings and click Preview again.")
        ui.link("Customer portal settings", "/settings/portal")
