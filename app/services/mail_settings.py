"""The merchant's lifecycle-mail settings: which mails go out, their reply-to address, when renewals are announced."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.enums import MailKind
from app.errors import ValidationFailed
from app.models import MailSettings
from app.validation import check_email
from app.views.mails import MailSettingsView

MAX_REMINDER_DAYS = 60


def _view(row: MailSettings | None) -> MailSettingsView:
    if row is None:
        return MailSettingsView()
    disabled = set(row.disabled_kinds)
    return MailSettingsView(
        enabled=frozenset(kind for kind in MailKind if kind.value not in disabled),
        reply_to=row.reply_to,
        renewal_reminder_days=row.renewal_reminder_days,
        renewal_reminder_all_plans=row.renewal_reminder_all_plans,
    )


def get_mail_settings(*, session: Session, merchant_id: str) -> MailSettingsView:
    """The saved settings, or the defaults (every mail on, renewals 7 days before, yearly plans only)."""
    return _view(session.get(MailSettings, merchant_id))


def validate_mail_settings(draft: MailSettingsView) -> dict[str, str]:
    """Field errors of a draft (empty when it can be saved)."""
    errors = {}
    if draft.reply_to and (problem := check_email(draft.reply_to)):
        errors["reply_to"] = problem
    if not 1 <= draft.renewal_reminder_days <= MAX_REMINDER_DAYS:
        errors["renewal_reminder_days"] = f"Choose between 1 and {MAX_REMINDER_DAYS} days."
    return errors


def save_mail_settings(
    *, session: Session, merchant_id: str, draft: MailSettingsView, clock: Clock = system_clock
) -> MailSettingsView:
    """Save a draft (ValidationFailed with field errors when it cannot be)."""
    if errors := validate_mail_settings(draft):
        raise ValidationFailed(errors)
    row = session.get(MailSettings, merchant_id)
    if row is None:
        row = MailSettings(merchant_id=merchant_id)
        session.add(row)
    row.disabled_kinds = [kind.value for kind in MailKind if kind not in draft.enabled]
    row.reply_to = draft.reply_to.strip().lower()
    row.renewal_reminder_days = draft.renewal_reminder_days
    row.renewal_reminder_all_plans = draft.renewal_reminder_all_plans
    row.updated_at = clock()
    session.flush()
    return _view(row)
