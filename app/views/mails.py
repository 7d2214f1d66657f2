"""Views of the lifecycle mails: the merchant's mail settings and a mail as the customer gets it."""

from __future__ import annotations

from dataclasses import dataclass

from app.enums import MailKind


@dataclass(frozen=True, slots=True)
class MailSettingsView:
    """Which lifecycle mails a merchant sends, and how; the settings page's Emails section edits a draft of it."""

    enabled: frozenset[MailKind] = frozenset(MailKind)
    reply_to: str = ""  # "" = the portal's support email
    renewal_reminder_days: int = 7
    renewal_reminder_all_plans: bool = False  # False: yearly plans only


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A mail as the customer gets it: subject, plain-text part and HTML part (escaped)."""

    subject: str
    text: str
    html: str
