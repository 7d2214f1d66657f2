"""Outgoing email: every mail is queued in the database and sent by `send_due` over SMTP when `SMTP_URL` is set.

Without `SMTP_URL` a mail is kept in the local outbox (the Emails page) and never sent. With it, the mail waits in the
queue until the background sender (server/background_loops.py, every few seconds) or `python -m app emails send`
takes it: a mail is claimed before sending (status `sending` until the claim runs out), so two processes never send
it at once, and a sender killed between queueing and sending leaves it to be sent by the next one. Failed sends are
retried with a growing delay; a permanent refusal (5xx) or too many attempts gives up (status `failed`).

One window cannot be closed with SMTP: a sender that dies after the server accepted a mail but before it recorded
that loses the record, and the mail goes out again when the claim runs out. Each mail carries a stable Message-ID
(`<em_…@domain>`) so receiving systems can spot such a repeat.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime as mime_date
from email.utils import formataddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.config import Settings
from app.db import Database
from app.enums import EmailStatus
from app.errors import NotFound
from app.keyset import after_cursor, split_page
from app.models import EmailMessage
from app.views import EmailPage, EmailView

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10
CLAIM_TIMEOUT = timedelta(seconds=90)  # longer than one SMTP conversation can take (connect + send timeouts)
MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 1, 2, 4 … 64 minutes; 8 attempts span about two hours."""
    return timedelta(minutes=2 ** min(attempts - 1, 6))


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
    html_body: str = "",
    kind: str = "",
    attachment_invoice_id: str | None = None,
) -> EmailView:
    """Queue a mail (in the caller's transaction): sent within seconds with SMTP configured, else kept in the outbox.

    `body` is the plain-text part, `html_body` an optional HTML alternative (already escaped by its template);
    `attachment_invoice_id` attaches that invoice's PDF when the mail is sent.
    """
    message = EmailMessage(
        merchant_id=merchant_id,
        customer_id=customer_id,
        kind=kind,
        to_address=to_address,
        sender_name=_one_line(sender_name)[:120],
        reply_to=_one_line(reply_to)[:254],
        subject=_one_line(subject)[:200],
        body=body,
        html_body=html_body,
        attachment_invoice_id=attachment_invoice_id,
        status=EmailStatus.QUEUED if settings.smtp_url else EmailStatus.OUTBOX,
        created_at=clock(),
    )
    session.add(message)
    session.flush()
    return _view(message)


@dataclass(frozen=True, slots=True)
class SendResult:
    sent: int
    retrying: int
    failed: int
    kept: int = 0  # lifecycle mails written and kept in the local outbox (no SMTP_URL)


def send_due(
    *,
    database: Database,
    settings: Settings,
    clock: Clock = system_clock,
    limit: int = 100,
    should_stop: Callable[[], bool] = bool,
) -> SendResult:
    """Send the queued mails whose time has come, and those whose sender died mid-send (claim run out), oldest first.

    Lifecycle mails are written first (app/services/lifecycle_mails.py); without SMTP_URL they are written and kept
    in the local outbox.
    """
    now = clock()
    with database.transaction() as session:
        due = session.execute(
            select(EmailMessage.id, EmailMessage.status, EmailMessage.next_attempt_at)
            .where(
                or_(
                    (EmailMessage.status == EmailStatus.QUEUED)
                    & or_(EmailMessage.next_attempt_at.is_(None), EmailMessage.next_attempt_at <= now),
                    (EmailMessage.status == EmailStatus.SENDING) & (EmailMessage.next_attempt_at <= now),
                )
            )
            .order_by(EmailMessage.created_at, EmailMessage.id)
            .limit(limit)
        ).all()
    tally = {EmailStatus.SENT: 0, EmailStatus.QUEUED: 0, EmailStatus.FAILED: 0, EmailStatus.OUTBOX: 0}
    for message_id, status, scheduled in due:
        if should_stop():
            break
        outcome = _attempt(database, settings, message_id, status, scheduled, clock)
        if outcome is not None:
            tally[outcome] += 1
    return SendResult(
        tally[EmailStatus.SENT], tally[EmailStatus.QUEUED], tally[EmailStatus.FAILED], tally[EmailStatus.OUTBOX]
    )


class _SendError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def _attempt(
    database: Database,
    settings: Settings,
    message_id: str,
    status: EmailStatus,
    scheduled: datetime | None,
    clock: Clock,
) -> EmailStatus | None:
    """Claim, send and record one mail; None when another process claimed it first."""
    now = clock()
    claim_until = now + CLAIM_TIMEOUT
    with database.transaction() as session:
        unchanged = (
            EmailMessage.next_attempt_at.is_(None) if scheduled is None else EmailMessage.next_attempt_at == scheduled
        )
        claimed = session.execute(
            update(EmailMessage)
            .where(EmailMessage.id == message_id, EmailMessage.status == status, unchanged)
            .values(status=EmailStatus.SENDING, next_attempt_at=claim_until, attempts=EmailMessage.attempts + 1)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        message = session.get_one(EmailMessage, message_id)
        if message.facts is not None and not message.body:
            from app.services.lifecycle_mails import write_queued  # imports portal code that imports this module

            write_queued(session, settings, message, now)  # once: a retry sends the same words and link
        if not settings.smtp_url:
            message.status, message.next_attempt_at = EmailStatus.OUTBOX, None
            return EmailStatus.OUTBOX
        try:
            mime: MimeMessage | None = _mime(session, settings, message)
            problem = None
        except NotFound:
            mime, problem = None, _SendError("The invoice to attach no longer exists.", permanent=True)
    if mime is not None:
        try:
            _deliver(settings.smtp_url, mime, message_id)
        except _SendError as error:
            problem = error
    with database.transaction() as session:
        message = session.get_one(EmailMessage, message_id)
        if message.status != EmailStatus.SENDING or message.next_attempt_at != claim_until:
            return None  # our claim ran out and another sender took the mail over
        if problem is None:
            message.status, message.sent_at, message.next_attempt_at = EmailStatus.SENT, now, None
            message.last_error = ""
        elif problem.permanent or message.attempts >= MAX_ATTEMPTS:
            message.status, message.next_attempt_at, message.last_error = EmailStatus.FAILED, None, problem.reason[:300]
        else:
            message.status = EmailStatus.QUEUED
            message.next_attempt_at = now + retry_delay(message.attempts)
            message.last_error = problem.reason[:300]
        return message.status


def _mime(session: Session, settings: Settings, message: EmailMessage) -> MimeMessage:
    mime = MimeMessage()
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    mime["Message-ID"] = f"<{message.id}@{domain}>"  # the same on every attempt: a repeat is recognisable
    mime["Date"] = mime_date(message.created_at)
    mime["From"] = formataddr((message.sender_name, settings.mail_from))
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime.set_content(message.body)
    if message.html_body:
        mime.add_alternative(message.html_body, subtype="html")
    if message.attachment_invoice_id:
        from app.services.invoice_pdf import render_invoice_pdf_for_mail  # imports portal code that imports this module

        filename, pdf = render_invoice_pdf_for_mail(session=session, invoice_id=message.attachment_invoice_id)
        mime.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return mime


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
    except smtplib.SMTPRecipientsRefused:
        raise _SendError("The SMTP server refused the recipient.", permanent=True) from None
    except smtplib.SMTPResponseException as error:
        # The address stays out of the log; the message id is enough to find it in the outbox table.
        log.warning("Could not send email %s via %s: SMTP %s", message_id, host, error.smtp_code)
        raise _SendError(f"The SMTP server answered {error.smtp_code}.", permanent=error.smtp_code >= 500) from None
    except (OSError, smtplib.SMTPException) as error:
        log.warning("Could not send email %s via %s: %s", message_id, host, type(error).__name__)
        raise _SendError(f"Could not reach the SMTP server ({type(error).__name__}).", permanent=False) from None


def _view(message: EmailMessage) -> EmailView:
    return EmailView(
        id=message.id,
        to_address=message.to_address,
        subject=message.subject,
        body=message.body,
        created_at=message.created_at,
        sent_at=message.sent_at,
        status=message.status,
        kind=message.kind,
        html_body=message.html_body,
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
