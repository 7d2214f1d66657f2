"""The Emails section of the Customer portal settings: switches, reply-to, reminder days and the mail preview."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from app.db import Database
from app.enums import MailKind
from app.services.mail_settings import get_mail_settings
from app.views.mails import MailSettingsView
from tests.ui.conftest import log_in
from tests.ui.test_portal_settings import PAGE, acme_id


def stored(database: Database) -> MailSettingsView:
    with database.transaction() as session:
        return get_mail_settings(session=session, merchant_id=acme_id(database))


def _subject(user: User) -> str:
    (label,) = user.find(marker="email-subject").elements
    return label.text


def _preview_html(user: User) -> str:
    (frame,) = user.find(marker="email-preview-frame").elements
    return str(frame.props["srcdoc"])


async def test_the_preview_shows_the_chosen_mail_in_the_chosen_language(user: User) -> None:
    await log_in(user, then=PAGE)
    await user.should_see("Emails")
    assert _subject(user) == "Your payment to Acme Cloud failed"
    assert "Jenny Rosen" in _preview_html(user) and "Visa ending in 4242" in _preview_html(user)
    (kind,) = user.find(kind=ui.select, content="Preview email").elements
    (language,) = user.find(kind=ui.select, content="Email language").elements
    with user:
        kind.value = MailKind.RECEIPT.value
        language.value = "de_DE"
    await user.should_see("Ihre Quittung von Acme Cloud")
    assert "Rechnung ansehen" in _preview_html(user)


async def test_switches_reply_to_and_reminder_days_are_saved_with_the_page(user: User, database: Database) -> None:
    await log_in(user, then=PAGE)
    await user.should_see("Emails")
    user.find(kind=ui.switch, content="Receipt").click()
    await user.should_see("Unsaved changes")
    user.find(kind=ui.input, content="Reply-to address").clear().type("not an address")
    await user.should_see("Enter a valid email address, like name@example.com.")
    user.find(kind=ui.input, content="Reply-to address").clear().type("billing@acme.test")
    (days,) = user.find(kind=ui.number, content="Renewal reminder (days before)").elements
    with user:
        days.value = 14
    assert stored(database) == MailSettingsView()  # nothing saved yet
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    saved = stored(database)
    assert MailKind.RECEIPT not in saved.enabled and MailKind.PAYMENT_FAILED in saved.enabled
    assert (saved.reply_to, saved.renewal_reminder_days) == ("billing@acme.test", 14)
