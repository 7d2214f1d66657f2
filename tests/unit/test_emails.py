"""The outbox: every mail is kept; with SMTP_URL it is also sent, and a refused send records nothing."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage as MimeMessage

import pytest
from sqlalchemy import select

from app.config import ConfigurationError, Settings, load_settings
from app.db import Database
from app.errors import DeliveryFailed, ValidationFailed
from app.models import EmailMessage
from app.services.emails import list_emails, send_email
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of


class FakeSMTP:
    """Stands in for smtplib.SMTP and remembers what it was asked to do."""

    sent: list[MimeMessage]
    calls: list[str]
    refuse = False

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
        if FakeSMTP.refuse:
            raise smtplib.SMTPRecipientsRefused({})
        FakeSMTP.sent.append(message)


@pytest.fixture
def fake_smtp(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    FakeSMTP.sent, FakeSMTP.calls, FakeSMTP.refuse = [], [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def _send(database: Database, settings: Settings, subject: str = "Hello", to: str = "jo@example.com") -> str:
    with database.transaction() as session:
        return send_email(
            session=session,
            settings=settings,
            merchant_id=merchant_id_of(session, "Acme Cloud"),
            customer_id=None,
            to_address=to,
            subject=subject,
            body="Body text\n",
            sender_name="Acme\nCloud",
            reply_to="support@acme.test",
            clock=lambda: DEMO_NOW,
        ).id


def test_without_smtp_mails_stay_in_the_outbox(database: Database, settings: Settings, fake_smtp) -> None:
    email_id = _send(database, settings)
    with database.transaction() as session:
        stored = session.get_one(EmailMessage, email_id)
        assert (stored.to_address, stored.subject, stored.sent_at) == ("jo@example.com", "Hello", None)
    assert fake_smtp.calls == []


def test_with_smtp_mails_are_sent_with_starttls_and_login(database: Database, settings: Settings, fake_smtp) -> None:
    smtp = settings.model_copy(update={"smtp_url": "smtp://mailer:p%40ss@mail.example.com:2525"})
    email_id = _send(database, smtp, subject="Line\nbreak")
    assert fake_smtp.calls == ["connect mail.example.com:2525", "ehlo", "starttls", "ehlo", "login mailer:p@ss", "quit"]
    [message] = fake_smtp.sent
    assert message["Subject"] == "Line break"
    assert message["From"] == f"Acme Cloud <{settings.mail_from}>"
    assert message["Reply-To"] == "support@acme.test"
    with database.transaction() as session:
        assert session.get_one(EmailMessage, email_id).sent_at == DEMO_NOW


def test_a_refused_send_raises_and_keeps_nothing(database: Database, settings: Settings, fake_smtp) -> None:
    fake_smtp.refuse = True
    smtp = settings.model_copy(update={"smtp_url": "smtp://mail.example.com"})
    with pytest.raises(DeliveryFailed):
        _send(database, smtp)
    with database.transaction() as session:
        assert session.scalars(select(EmailMessage)).all() == []


def test_smtp_url_must_name_smtp_or_smtps(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="SMTP_URL"):
        load_settings(smtp_url="http://mail.example.com", _env_file=None)
    assert load_settings(smtp_url="smtps://u:p@mail.example.com", _env_file=None).smtp_url


def test_the_emails_page_lists_newest_first_in_keyset_pages(database: Database, settings: Settings) -> None:
    sent = [_send(database, settings, subject=f"Mail {index}") for index in range(5)]
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        first = list_emails(session=session, merchant_id=acme, page_size=3)
        second = list_emails(session=session, merchant_id=acme, page_size=3, after=first.next_cursor)
        globex = list_emails(session=session, merchant_id=merchant_id_of(session, "Globex"))
        with pytest.raises(ValidationFailed):
            list_emails(session=session, merchant_id=acme, after="nonsense")
    assert second.next_cursor is None
    assert sorted(email.id for email in first.emails + second.emails) == sorted(sent)
    assert globex.emails == ()
