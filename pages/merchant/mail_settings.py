"""The Emails section of `/settings/portal`: which lifecycle mails go out, reply-to, renewal reminders, and a live
preview of the selected mail as the sample customer would get it (from the page's unsaved drafts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nicegui import ui
from sqlalchemy.orm import Session

from app.enums import MailKind
from app.i18n import SUPPORTED_LOCALES
from app.services.lifecycle_mails import sample_mail
from app.services.mail_settings import (
    MAX_REMINDER_DAYS,
    get_mail_settings,
    save_mail_settings,
    validate_mail_settings,
)
from app.views import PortalSettingsView
from components.forms import FieldGroup, text_field
from components.settings import settings_card
from pages.merchant.scaffold import MerchantPage


class MailSettingsSection:
    """The mail settings' saved state and draft, their form and the mail preview; the page's editor saves them."""

    def __init__(self, page: MerchantPage, on_change: Callable[[], None]) -> None:
        self.page = page
        self.on_change = on_change
        with page.context.database.transaction() as session:
            self.saved = self.draft = get_mail_settings(session=session, merchant_id=page.merchant_id)
        self.kind = MailKind.PAYMENT_FAILED
        self.locale = "en_US"
        self.portal_draft: PortalSettingsView | None = None
        self.fields = FieldGroup()
        self.frame: ui.element | None = None
        self.subject: ui.label | None = None
        self.text: ui.label | None = None

    @property
    def dirty(self) -> bool:
        return self.draft != self.saved

    def errors(self) -> dict[str, str]:
        return validate_mail_settings(self.draft)

    def write(self, session: Session) -> None:
        self.saved = self.draft = save_mail_settings(
            session=session, merchant_id=self.page.merchant_id, draft=self.draft, clock=self.page.context.clock
        )

    def restart(self) -> None:
        """Forget the draft (the page's Reset, or after Save)."""
        with self.page.context.database.transaction() as session:
            self.saved = self.draft = get_mail_settings(session=session, merchant_id=self.page.merchant_id)

    def change(self, **changes: Any) -> None:
        self.draft = replace(self.draft, **changes)
        self.fields.show_errors(self.errors())
        self.show_preview()
        self.on_change()

    def toggle(self, kind: MailKind, enabled: bool) -> None:
        self.change(enabled=self.draft.enabled | {kind} if enabled else self.draft.enabled - {kind})

    # --- Rendering --------------------------------------------------------------------------------------------

    def build(self, portal_draft: PortalSettingsView) -> None:
        self.portal_draft = portal_draft
        self.fields = FieldGroup()
        with settings_card("Emails", "Mails the portal sends your customers, in their language and your branding."):
            for kind in MailKind:
                with ui.column().classes("gap-0 w-full"):
                    switch = ui.switch(
                        kind.label,
                        value=kind in self.draft.enabled,
                        on_change=lambda event, kind=kind: self.toggle(kind, bool(event.value)),
                    ).classes("text-weight-medium")
                    caption = ui.label(kind.description).classes("text-caption text-grey-7 q-pl-xl")
                    switch.props(f"aria-describedby={caption.html_id}")
            with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap"):
                reply_to = text_field(
                    "Reply-to address",
                    self.draft.reply_to,
                    max_length=254,
                    hint="Where replies go; empty: your support email",
                    input_type="email",
                )
                reply_to.on_value_change(lambda event: self.change(reply_to=(event.value or "").strip()))
                self.fields.add("reply_to", reply_to)
                days = (
                    ui.number(
                        "Renewal reminder (days before)",
                        value=self.draft.renewal_reminder_days,
                        min=1,
                        max=MAX_REMINDER_DAYS,
                        step=1,
                        precision=0,
                        on_change=lambda event: self.change(renewal_reminder_days=int(event.value or 0)),
                    )
                    .props("outlined dense")
                    .classes("w-full")
                )
                self.fields.add("renewal_reminder_days", days)
            ui.checkbox(
                "Announce renewals of every plan (not only yearly plans)",
                value=self.draft.renewal_reminder_all_plans,
                on_change=lambda event: self.change(renewal_reminder_all_plans=bool(event.value)),
            ).props("dense")
            self._preview()
        self.fields.show_errors(self.errors())

    def _preview(self) -> None:
        with ui.row().classes("w-full no-wrap gap-3 max-sm:flex-wrap q-mt-sm"):
            ui.select(
                {kind.value: kind.label for kind in MailKind},
                label="Preview email",
                value=self.kind.value,
                on_change=lambda event: self._choose(kind=MailKind(event.value)),
            ).props("outlined dense").classes("w-full")
            ui.select(
                SUPPORTED_LOCALES,
                label="Email language",
                value=self.locale,
                on_change=lambda event: self._choose(locale=str(event.value)),
            ).props("outlined dense").classes("w-full")
        with (
            ui.element("section")
            .props('aria-label="Email preview"')
            .classes("w-full rounded-borders border border-gray-300 bg-white overflow-hidden")
        ):
            with ui.column().classes("w-full gap-0 q-pa-sm bg-grey-1"):
                self.subject = ui.label().classes("text-body2 text-weight-medium break-all").mark("email-subject")
                self.sender = ui.label().classes("text-caption text-grey-8 break-words")
                self.off = ui.label("Switched off: customers don't get this email.").classes(
                    "text-caption text-negative"
                )
            # The mail's own HTML (escaped by its template) in a sandboxed frame: no scripts, no navigation.
            # Tall enough for the longest mail at phone width: the frame does not scroll (no pointer events).
            self.frame = (
                ui.element("iframe").mark("email-preview-frame").classes("w-full border-0 h-[860px] sm:h-[680px]")
            )
            self.frame.style("pointer-events: none")
            self.frame.props["sandbox"] = ""
            self.frame.props["title"] = "Email preview"
            with ui.expansion("Plain-text version").classes("w-full"):
                self.text = ui.label().classes("whitespace-pre-wrap break-all text-body2 font-mono")
        self.show_preview()

    def _choose(self, **choice: Any) -> None:
        self.kind = choice.get("kind", self.kind)
        self.locale = choice.get("locale", self.locale)
        self.show_preview()

    def show_portal_draft(self, portal_draft: PortalSettingsView) -> None:
        """The page's portal draft changed (colours, support email): the mail preview follows."""
        self.portal_draft = portal_draft
        self.show_preview()

    def show_preview(self) -> None:
        if self.frame is None or self.subject is None or self.text is None or self.portal_draft is None:
            return
        account = self.page.account
        mail = sample_mail(
            self.kind,
            portal_settings=self.portal_draft,
            business_name=account.public_business_name,
            merchant_support_email=account.support_email,
            time_zone=account.time_zone,
            public_url=self.page.context.settings.effective_public_url,
            locale=self.locale,
            now=self.page.context.clock(),
        )
        reply_to = self.draft.reply_to or self.portal_draft.support_email or account.support_email
        self.subject.set_text(mail.subject)
        self.sender.set_text(f"From {account.public_business_name} · To Jenny Rosen · Reply to {reply_to or '—'}")
        self.off.set_visibility(self.kind not in self.draft.enabled)
        self.frame.props["srcdoc"] = mail.html
        self.frame.update()
        self.text.set_text(mail.text)
