"""`/emails`: the mails the portal sent to this merchant's customers (the local outbox when SMTP is not set up)."""

from __future__ import annotations

from nicegui import ui

from app.context import AppContext
from app.enums import EmailStatus
from app.formatting import format_datetime
from app.services.emails import list_emails
from app.views import EmailView
from components.badges import Tone, status_badge
from components.customers import LOCALE
from components.dialogs import heading
from pages.merchant.scaffold import MerchantPage, merchant_page


def register(context: AppContext) -> None:
    merchant_page(context, "/emails", title="Emails")(emails_page)


def emails_page(page: MerchantPage) -> None:
    with page.context.database.transaction() as session:
        first = list_emails(session=session, merchant_id=page.merchant_id)
    next_cursor = first.next_cursor

    def load_older() -> None:
        nonlocal next_cursor
        with page.context.database.transaction() as session:
            older_page = list_emails(session=session, merchant_id=page.merchant_id, after=next_cursor)
        with email_list:
            for email in older_page.emails:
                _email_item(email, page.time_zone)
        next_cursor = older_page.next_cursor
        older.set_visibility(next_cursor is not None)

    if page.context.settings.smtp_url:
        ui.label(
            "Emails are queued and sent through your SMTP server within a few seconds; failed sends are retried. "
            "These are copies."
        ).classes("text-body2 q-mb-md")
    else:
        ui.label(
            "No SMTP server is configured (SMTP_URL), so emails are not delivered: they are kept here, "
            "in the local outbox."
        ).classes("text-body2 q-mb-md")
    if not first.emails:
        with ui.column().classes("w-full items-center q-pa-xl gap-2 text-center"):
            ui.icon("mail", size="lg", color="grey-6").props('aria-hidden="true"')
            heading("No emails yet")
            ui.label("When a customer asks for a new portal link by email, the email appears here.")
        return
    with ui.list().props("bordered separator").classes("w-full rounded-borders") as email_list:
        for email in first.emails:
            _email_item(email, page.time_zone)
    older = ui.button("Load older emails", on_click=load_older).props("flat no-caps").classes("q-mt-sm")
    older.set_visibility(next_cursor is not None)


_STATUS_BADGES: dict[EmailStatus, tuple[str, Tone]] = {
    EmailStatus.OUTBOX: ("In outbox", Tone.NEUTRAL),
    EmailStatus.QUEUED: ("Queued", Tone.INFO),
    EmailStatus.SENDING: ("Sending", Tone.INFO),
    EmailStatus.SENT: ("Sent", Tone.POSITIVE),
    EmailStatus.FAILED: ("Not delivered", Tone.NEGATIVE),
}


def _email_item(email: EmailView, time_zone: str) -> None:
    with ui.expansion().classes("w-full") as item:
        with item.add_slot("header"), ui.column().classes("w-full gap-0 q-py-xs"):
            with ui.row().classes("w-full items-center justify-between gap-2"):
                ui.label(email.subject).classes("text-weight-medium")
                ui.label(format_datetime(email.created_at, LOCALE, time_zone)).classes("text-caption text-grey-8")
            with ui.row().classes("items-center gap-2"):
                ui.label(f"To {email.to_address}").classes("text-caption text-grey-8 break-all")
                label, tone = _STATUS_BADGES[email.status]
                status_badge(label, tone)
        ui.label(email.body).classes("whitespace-pre-wrap break-all text-body2 font-mono q-pa-sm bg-grey-1")
