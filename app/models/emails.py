"""The mail queue: every mail the portal writes, with its delivery state, so that a restart resumes sending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import EmailStatus
from app.models import Base, _enum, new_id, utcnow


class EmailMessage(Base):
    """A mail the portal sent (or will send, or keeps in the local outbox when no SMTP server is configured).

    A queued mail is claimed before sending (status `sending`, `next_attempt_at` = end of the claim), so two processes
    never send it at once and a sender that dies mid-send leaves it to be sent again once the claim runs out.
    """

    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_merchant_created", "merchant_id", "created_at"),
        Index("ix_email_messages_customer_created", "customer_id", "created_at"),
        Index("ix_email_messages_status_next", "status", "next_attempt_at"),
        # A lifecycle mail that must go once per occasion (a reminder per period) names the occasion here.
        UniqueConstraint("merchant_id", "occasion", name="uq_email_messages_merchant_occasion"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("em"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), nullable=True)
    # What the mail is about ("payment_failed", "receipt", …; "" for one-off mails such as a new portal link).
    kind: Mapped[str] = mapped_column(String(40), default="")
    to_address: Mapped[str] = mapped_column(String(254))
    sender_name: Mapped[str] = mapped_column(String(120), default="")
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the plain-text part
    html_body: Mapped[str] = mapped_column(Text, default="")  # the HTML part, "" for plain-text mails
    # The invoice whose PDF goes with the mail (a receipt); rendered when the mail is sent.
    attachment_invoice_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[EmailStatus] = mapped_column(_enum(EmailStatus), default=EmailStatus.OUTBOX)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Queued: not before this moment (None: now). Sending: the claim runs out at this moment.
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A lifecycle mail is queued as its facts (amounts, dates, ids as the event left them) and written, in the
    # customer's language and the merchant's current branding with a fresh portal link, when it is sent.
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    occasion: Mapped[str | None] = mapped_column(String(120), nullable=True)


class MailSettings(Base):
    """Which lifecycle mails a merchant sends, and how (the Emails section of the Customer portal settings)."""

    __tablename__ = "mail_settings"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    disabled_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # MailKind values switched off
    reply_to: Mapped[str] = mapped_column(String(254), default="")  # "" = the portal's support email
    renewal_reminder_days: Mapped[int] = mapped_column(Integer, default=7)
    renewal_reminder_all_plans: Mapped[bool] = mapped_column(Boolean, default=False)  # False: yearly plans only
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
