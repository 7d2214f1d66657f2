"""Outgoing email: every mail is kept in the outbox table, and also sent over SMTP when `SMTP_URL` is set."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.errors import DeliveryFailed
from app.keyset import after_cursor, split_page
from app.models import EmailMessage
from app.views import EmailPage, EmailView

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10


def _one_line(text: str) -> str:
    """Header values from user text (business names) must not carry line breaks."""
    return " ".join(text.split())


def send_email(
    *,
    session: Session,
    settings: Settings,
    merchant_id: str,
    customer_id: str | None,
    to_address: str,
    subject: str,
    body: str,
    sender_name: str = "",
    reply_to: str = "",
    clock: Clock = system_clock,
) -> EmailView:
    """Record the mail in the outbox and, with SMTP configured, send it (DeliveryFailed when that fails)."""
    message = EmailMessage(
        merchant_id=merchant_id,
        customer_id=customer_id,
        to_address=to_address,
        subject=_one_line(subject)[:200],
        body=body,
        created_at=clock(),
    )
    session.add(message)
    session.flush()
    if settings.smtp_url:
        mime = MimeMessage()
        mime["From"] = formataddr((_one_line(sender_name), settings.mail_from))
        mime["To"] = to_address
        mime["Subject"] = message.subject
        if reply_to:
            mime["Reply-To"] = reply_to
        mime.set_content(body)
        _deliver(settings.smtp_url, mime, message.id)
        message.sent_at = clock()
    return _view(message)


def _deliver(smtp_url: str, mime: MimeMessage, message_id: str) -> None:
    """smtp://user:password@host:port (STARTTLS when the server offers it) or smtps:// (TLS from the start)."""
    url = urlsplit(smtp_url)
    host = url.hostname or "localhost"
    tls = ssl.create_default_context()
    try:
        client = (
            smtplib.SMTP_SSL(host, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=tls)
            if url.scheme == "smtps"
            else smtplib.SMTP(host, url.port or 25, timeout=SMTP_TIMEOUT_SECONDS)
        )
        with client:
            if url.scheme == "smtp":
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=tls)
                    client.ehlo()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(mime)
    except (OSError, smtplib.SMTPException) as error:
        # The address stays out of the log; the message id is enough to find it in the outbox table.
        log.warning("Could not send email %s via %s: %s", message_id, host, type(error).__name__)
        raise DeliveryFailed("The email could not be sent.") from None


def _view(message: EmailMessage) -> EmailView:
    return EmailView(
        id=message.id,
        to_address=message.to_address,
        subject=message.subject,
        body=message.body,
        created_at=message.created_at,
        sent_at=message.sent_at,
    )


def list_emails(*, session: Session, merchant_id: str, after: str | None = None, page_size: int = 20) -> EmailPage:
    """The merchant's emails, newest first, keyset-paginated (`after` is the previous page's `next_cursor`)."""
    statement = (
        select(EmailMessage)
        .where(EmailMessage.merchant_id == merchant_id)
        .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
        .limit(page_size + 1)
    )
    if after is not None:
        statement = statement.where(after_cursor(EmailMessage.created_at, EmailMessage.id, after))
    messages, next_cursor = split_page(list(session.scalars(statement)), page_size)
    return EmailPage(emails=tuple(_view(message) for message in messages), next_cursor=next_cursor)
