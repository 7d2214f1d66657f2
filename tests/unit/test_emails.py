"""The mail queue: mails are queued, sent by `send_due` through a real SMTP server, retried, and never lost or
sent twice when the sender dies between queueing and sending."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage

import pytest
from sqlalchemy import select

from app.config import ConfigurationError, Settings, load_settings
from app.db import Database
from app.enums import EmailStatus
from app.errors import ValidationFailed
from app.models import EmailMessage
from app.services import emails
from app.services.emails import CLAIM_TIMEOUT, list_emails, send_due, send_email
from tests.conftest import DEMO_NOW
from tests.mail_support import SmtpServer, html_part, text_part
from tests.unit.portal_support import merchant_id_of

LATER = DEMO_NOW + CLAIM_TIMEOUT + timedelta(seconds=1)


def _queue(database: Database, settings: Settings, subject: str = "Hello", to: str = "jo@example.com") -> str:
    with database.transaction() as session:
        return send_email(
            session=session,
            settings=settings,
            merchant_id=merchant_id_of(session, "Acme Cloud"),
            customer_id=None,
            to_address=to,
            subject=subject,
            body="Body text\n",
            html_body="<p>Body <b>text</b></p>",
            sender_name="Acme\nCloud",
            reply_to="support@acme.test",
            clock=lambda: DEMO_NOW,
        ).id


def _stored(database: Database, email_id: str) -> EmailMessage:
    with database.transaction() as session:
        stored = session.get_one(EmailMessage, email_id)
        session.expunge(stored)
        return stored


def test_without_smtp_mails_stay_in_the_outbox(database: Database, settings: Settings) -> None:
    email_id = _queue(database, settings)
    assert send_due(database=database, settings=settings, clock=lambda: LATER).sent == 0
    stored = _stored(database, email_id)
    assert (stored.to_address, stored.subject, stored.status, stored.sent_at) == (
        "jo@example.com",
        "Hello",
        EmailStatus.OUTBOX,
        None,
    )


def test_a_queued_mail_is_sent_once_with_both_parts(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    email_id = _queue(database, smtp_settings, subject="Line\nbreak")
    assert _stored(database, email_id).status == EmailStatus.QUEUED
    assert smtp_server.messages == []  # queueing sends nothing: the sender does
    assert send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW).sent == 1
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Line break"
    assert message["From"] == "Acme Cloud <portal@portal.test>"
    assert message["Reply-To"] == "support@acme.test"
    assert message["Message-ID"] == f"<{email_id}@portal.test>"
    assert text_part(message) == "Body text\n"
    assert "<b>text</b>" in html_part(message)
    stored = _stored(database, email_id)
    assert (stored.status, stored.sent_at, stored.attempts) == (EmailStatus.SENT, DEMO_NOW, 1)
    assert send_due(database=database, settings=smtp_settings, clock=lambda: LATER).sent == 0
    assert len(smtp_server.messages) == 1


def test_a_temporary_refusal_is_retried_later_and_a_permanent_one_gives_up(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    email_id = _queue(database, smtp_settings)
    smtp_server.refuse_with = 451
    result = send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW)
    assert (result.sent, result.retrying) == (0, 1)
    stored = _stored(database, email_id)
    assert (stored.status, stored.next_attempt_at) == (EmailStatus.QUEUED, DEMO_NOW + timedelta(minutes=1))
    assert "451" in stored.last_error
    smtp_server.refuse_with = None
    assert send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW).sent == 0  # not yet due
    assert send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW + timedelta(minutes=1)).sent == 1
    assert len(smtp_server.wait_for(1)) == 1

    refused_id = _queue(database, smtp_settings, subject="Refused")
    smtp_server.refuse_with = 550
    assert send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW).failed == 1
    assert _stored(database, refused_id).status == EmailStatus.FAILED


def test_an_unreachable_server_is_retried_with_growing_delays(database: Database, settings: Settings) -> None:
    closed = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:9"})
    email_id = _queue(database, closed)
    moment = DEMO_NOW
    delays = []
    for _ in range(3):
        send_due(database=database, settings=closed, clock=lambda at=moment: at)
        stored = _stored(database, email_id)
        assert stored.next_attempt_at is not None
        delays.append(stored.next_attempt_at - moment)
        moment = stored.next_attempt_at
    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


def test_a_sender_interrupted_mid_send_loses_nothing_and_sends_once(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    email_id = _queue(database, smtp_settings)

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the process stops after claiming the mail, before it reached the server

    monkeypatch.setattr(emails, "_deliver", killed)
    with pytest.raises(KeyboardInterrupt):
        send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW)
    monkeypatch.undo()
    assert _stored(database, email_id).status == EmailStatus.SENDING
    # While the claim holds, another sender leaves the mail alone; once it runs out, the mail goes, exactly once.
    assert send_due(database=database, settings=smtp_settings, clock=lambda: DEMO_NOW).sent == 0
    assert send_due(database=database, settings=smtp_settings, clock=lambda: LATER).sent == 1
    assert send_due(database=database, settings=smtp_settings, clock=lambda: LATER + CLAIM_TIMEOUT).sent == 0
    assert len(smtp_server.wait_for(1)) == 1
    assert _stored(database, email_id).status == EmailStatus.SENT


def _cli(settings: Settings, smtp_url: str, *args: str) -> subprocess.Popen[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("NICEGUI_", "PYTEST_"))}
    environment.update(
        DATABASE_URL=settings.effective_database_url,
        DATA_DIR=str(settings.data_dir),
        SECRET_KEY=settings.secret_key,
        SMTP_URL=smtp_url,
        MAIL_FROM="portal@portal.test",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "app", "emails", "send", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killing_the_sender_process_mid_send_then_restarting_sends_each_mail_once(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    first, second = _queue(database, smtp_settings, "First"), _queue(database, smtp_settings, "Second")
    smtp_server.hold()
    sender = _cli(smtp_settings, smtp_server.url)
    assert smtp_server.held.wait(timeout=120), "the sender never reached the SMTP server"
    sender.send_signal(signal.SIGKILL)  # killed between queueing (done) and sending (not acknowledged)
    sender.wait(timeout=30)
    smtp_server.release()
    assert {_stored(database, first).status, _stored(database, second).status} <= {
        EmailStatus.SENDING,
        EmailStatus.QUEUED,
    }
    # The restarted sender, once the dead one's claim ran out, sends both; running it again sends nothing more.
    after_claim = (datetime.now(UTC) + CLAIM_TIMEOUT + timedelta(minutes=1)).isoformat()  # the CLI ran on real time
    for _ in range(2):
        restarted = _cli(smtp_settings, smtp_server.url, "--now", after_claim)
        output, errors = restarted.communicate(timeout=60)
        assert restarted.returncode == 0, errors
    assert sorted(message["Subject"] for message in smtp_server.wait_for(2)) == ["First", "Second"]
    assert len(smtp_server.messages) == 2
    assert "0 mails sent" in output


class FakeSMTP:
    """Stands in for smtplib.SMTP to check the STARTTLS and login conversation (aiosmtpd has no certificate here)."""

    calls: list[str]

    def __init__(self, host: str, port: int, timeout: float) -> None:
        FakeSMTP.calls.append(f"connect {host}:{port}")

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *_exc: object) -> None:
        FakeSMTP.calls.append("quit")

    def ehlo(self) -> None:
        FakeSMTP.calls.append("ehlo")

    def has_extn(self, name: str) -> bool:
        return name == "starttls"

    def starttls(self, context: object) -> None:
        FakeSMTP.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        FakeSMTP.calls.append(f"login {user}:{password}")

    def send_message(self, message: MimeMessage) -> None:
        FakeSMTP.calls.append("send")


def test_smtp_uses_starttls_and_login(database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeSMTP.calls = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    smtp = settings.model_copy(update={"smtp_url": "smtp://mailer:p%40ss@mail.example.com:2525"})
    _queue(database, smtp)
    send_due(database=database, settings=smtp, clock=lambda: DEMO_NOW)
    assert FakeSMTP.calls == [
        "connect mail.example.com:2525",
        "ehlo",
        "starttls",
        "ehlo",
        "login mailer:p@ss",
        "send",
        "quit",
    ]


def test_smtp_url_must_name_smtp_or_smtps(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="SMTP_URL"):
        load_settings(smtp_url="http://mail.example.com", _env_file=None)
    assert load_settings(smtp_url="smtps://u:p@mail.example.com", _env_file=None).smtp_url


def test_the_emails_page_lists_newest_first_in_keyset_pages(database: Database, settings: Settings) -> None:
    sent = [_queue(database, settings, subject=f"Mail {index}") for index in range(5)]
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        first = list_emails(session=session, merchant_id=acme, page_size=3)
        second = list_emails(session=session, merchant_id=acme, page_size=3, after=first.next_cursor)
        globex = list_emails(session=session, merchant_id=merchant_id_of(session, "Globex"))
        with pytest.raises(ValidationFailed):
            list_emails(session=session, merchant_id=acme, after="nonsense")
        assert session.scalars(select(EmailMessage.status).distinct()).all() == [EmailStatus.OUTBOX]
    assert second.next_cursor is None
    assert sorted(email.id for email in first.emails + second.emails) == sorted(sent)
    assert globex.emails == ()
