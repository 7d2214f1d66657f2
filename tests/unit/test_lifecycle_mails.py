"""Lifecycle mails through a real SMTP server: each mail in two languages, its button lands on the right portal task,
the receipt carries the PDF, the merchant's switches and reply-to apply, and user text is escaped."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select, update

from app.config import Settings
from app.db import Database
from app.enums import MailKind, PortalFlow
from app.i18n import LOCALES_DIR
from app.models import Customer, Invoice, Merchant, Price, PriceInterval, Subscription, SubscriptionStatus
from app.services.billing import advance
from app.services.customers import get_customer_details
from app.services.emails import send_due
from app.services.mail_settings import get_mail_settings, save_mail_settings
from app.services.mail_text import MailBranding, compose, render
from app.services.portal import cancel_subscription
from app.services.portal.flows import resolve_task
from app.services.portal_links import PortalAccess, open_link
from app.services.subscription_records import update_subscription
from app.views import PortalTask
from tests.mail_support import SmtpServer, attachments, html_part, links_in, text_part
from tests.unit.portal_support import ACTOR
from tests.unit.test_billing import PERIOD_END, CardGateway, add_subscription


@pytest.fixture(autouse=True)
def _quiet_demo_customers(database: Database) -> None:
    """The demo subscriptions renew two years later: the billing clock here moves only the tests' own customers."""
    with database.transaction() as session:
        for subscription in session.scalars(select(Subscription)):
            subscription.current_period_end += timedelta(days=730)
            if subscription.trial_end is not None:
                subscription.trial_end += timedelta(days=730)
        session.execute(update(Invoice).values(next_payment_attempt=None))


def _set_customer(database: Database, subscription_id: str, **values: object) -> str:
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        customer = session.get_one(Customer, subscription.customer_id)
        for name, value in values.items():
            setattr(customer, name, value)
        return customer.id


def _deliver(
    database: Database, settings: Settings, server: SmtpServer, at: datetime, to: str = "clock@example.com"
) -> list[MimeMessage]:
    """Send what is due; the mails `to` received so far (the demo customers renew too, and get their own)."""
    send_due(database=database, settings=settings, clock=lambda: at)  # returns once the server has accepted them
    return server.to(to)


def _button(message: MimeMessage) -> str:
    """The portal link of the mail's button, the same in the HTML and the plain-text part."""
    [link] = [url for url in links_in(html_part(message)) if "/portal/" in url]
    assert link in links_in(text_part(message))
    return link


def _landing(database: Database, settings: Settings, url: str, at: datetime) -> PortalTask | None:
    """Open the link as the portal page does: verify its token, then resolve its task for that customer."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    with database.transaction() as session:
        access = open_link(
            session=session, settings=settings, token=parts.path.rsplit("/", 1)[1], actor=ACTOR, clock=lambda: at
        )
        return resolve_task(
            session=session,
            access=access,
            flow=query.get("flow", ""),
            subscription=query.get("subscription", ""),
            invoice=query.get("invoice", ""),
        )


@pytest.mark.parametrize(
    ("locale", "subject", "card", "retry"),
    [
        ("en_US", "Your payment to Acme Cloud failed", "Visa ending in 0341", "We'll try again on Dec 7, 2026"),
        ("de_DE", "Ihre Zahlung an Acme Cloud ist fehlgeschlagen", "Visa mit Endziffern 0341", "am 07.12.2026"),
    ],
)
def test_payment_failed_on_each_attempt_with_amount_card_retry_and_a_button_to_update_the_card(
    database: Database,
    smtp_settings: Settings,
    smtp_server: SmtpServer,
    locale: str,
    subject: str,
    card: str,
    retry: str,
) -> None:
    subscription_id = add_subscription(database, last4="0341")
    _set_customer(database, subscription_id, locale=locale, name="Ada <Lovelace>")
    first_attempt = PERIOD_END + timedelta(minutes=1)
    advance(database=database, now=first_attempt, gateway=CardGateway())
    [mail] = _deliver(database, smtp_settings, smtp_server, first_attempt)
    assert mail["Subject"] == subject
    assert mail["To"] == "clock@example.com"
    text, html = text_part(mail), html_part(mail)
    assert card in text and retry in text
    assert ("$18.00" if locale == "en_US" else "18,00\xa0$") in text
    assert "Ada <Lovelace>" in text and "Ada &lt;Lovelace&gt;" in html and "<Lovelace>" not in html
    link = _button(mail)
    assert link.endswith("?flow=payment_method_update")
    assert _landing(database, smtp_settings, link, first_attempt) == PortalTask(flow=PortalFlow.PAYMENT_METHOD_UPDATE)
    # The retry a day later fails too: another mail, with the next retry date.
    advance(database=database, now=first_attempt + timedelta(days=1), gateway=CardGateway())
    second = _deliver(database, smtp_settings, smtp_server, first_attempt + timedelta(days=1))[1]
    assert second["Subject"] == subject


@pytest.mark.parametrize(
    ("locale", "subject", "button"),
    [
        ("en_US", "Confirm your payment to Acme Cloud", "Confirm payment"),
        ("fr_FR", "Confirmez votre paiement à Acme Cloud", "Confirmer le paiement"),
    ],
)
def test_action_required_opens_the_invoice_to_confirm(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer, locale: str, subject: str, button: str
) -> None:
    subscription_id = add_subscription(database, last4="3155")
    _set_customer(database, subscription_id, locale=locale)
    moment = PERIOD_END + timedelta(minutes=1)
    advance(database=database, now=moment, gateway=CardGateway())
    [mail] = _deliver(database, smtp_settings, smtp_server, moment)
    assert mail["Subject"] == subject
    assert button in html_part(mail) and button in text_part(mail)
    task = _landing(database, smtp_settings, _button(mail), moment)
    assert task is not None and task.flow == PortalFlow.INVOICE and task.invoice_id.startswith("in_")


@pytest.mark.parametrize(
    ("locale", "subject"), [("en_US", "Your receipt from Acme Cloud"), ("zh_Hans_CN", "来自 Acme Cloud 的收据")]
)
def test_a_paid_renewal_sends_a_receipt_with_the_invoice_pdf(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer, locale: str, subject: str
) -> None:
    subscription_id = add_subscription(database)
    _set_customer(database, subscription_id, locale=locale)
    moment = PERIOD_END + timedelta(minutes=1)
    advance(database=database, now=moment, gateway=CardGateway())
    [mail] = _deliver(database, smtp_settings, smtp_server, moment)
    assert mail["Subject"] == subject
    [(filename, pdf)] = attachments(mail).items()
    assert filename.endswith(".pdf") and pdf.startswith(b"%PDF")
    task = _landing(database, smtp_settings, _button(mail), moment)
    assert task is not None and task.flow == PortalFlow.INVOICE
    assert filename == f"{task_invoice_number(database, task.invoice_id)}.pdf"
    with database.transaction() as session:  # recorded on the customer's activity
        subscription = session.get_one(Subscription, subscription_id)
        details = get_customer_details(
            session=session, merchant_id=subscription.merchant_id, customer_id=subscription.customer_id
        )
    assert f"Email sent: {subject}" in [entry.title for entry in details.activity]


def task_invoice_number(database: Database, invoice_id: str) -> str:
    with database.transaction() as session:
        return session.get_one(Invoice, invoice_id).number


def _make_yearly(database: Database, subscription_id: str) -> None:
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        yearly = session.scalars(
            select(Price).where(Price.merchant_id == subscription.merchant_id, Price.interval == PriceInterval.YEAR)
        ).first()
        assert yearly is not None
        subscription.items[0].price_id = yearly.id
        subscription.items[0].quantity = 1


@pytest.mark.parametrize(("locale", "phrase"), [("en_US", "renews on"), ("de_DE", "verlängert sich am")])
def test_upcoming_renewal_of_a_yearly_plan_is_announced_once_seven_days_before(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer, locale: str, phrase: str
) -> None:
    yearly_id, monthly_id = add_subscription(database), add_subscription(database)
    _make_yearly(database, yearly_id)
    _set_customer(database, yearly_id, locale=locale, email="yearly@example.com")
    _set_customer(database, monthly_id, email="monthly@example.com")
    advance(database=database, now=PERIOD_END - timedelta(days=8), gateway=CardGateway())
    assert _deliver(database, smtp_settings, smtp_server, PERIOD_END, to="yearly@example.com") == []  # too early
    moment = PERIOD_END - timedelta(days=7) + timedelta(minutes=1)
    for _ in range(2):  # the next run does not announce it again
        advance(database=database, now=moment, gateway=CardGateway())
    [mail] = _deliver(database, smtp_settings, smtp_server, moment, to="yearly@example.com")
    assert _deliver(database, smtp_settings, smtp_server, moment, to="monthly@example.com") == []  # yearly only
    assert phrase in mail["Subject"]
    assert _landing(database, smtp_settings, _button(mail), moment) is None  # the portal's start
    assert len(_deliver(database, smtp_settings, smtp_server, moment, to="yearly@example.com")) == 1


@pytest.mark.parametrize(
    ("locale", "subject", "cost"),
    [
        ("en_US", "Your Acme Starter trial ends on", "Then your subscription costs $18.00."),
        ("de_DE", "Ihr Acme Starter-Test endet am", "Danach kostet Ihr Abonnement 18,00\xa0$."),
    ],
)
def test_trial_ending_three_days_before(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer, locale: str, subject: str, cost: str
) -> None:
    subscription_id = add_subscription(database, status=SubscriptionStatus.TRIALING, trial_end=PERIOD_END)
    _set_customer(database, subscription_id, locale=locale)
    advance(database=database, now=PERIOD_END - timedelta(days=4), gateway=CardGateway())
    assert _deliver(database, smtp_settings, smtp_server, PERIOD_END - timedelta(days=4)) == []  # too early
    moment = PERIOD_END - timedelta(days=3) + timedelta(minutes=1)
    advance(database=database, now=moment, gateway=CardGateway())
    [mail] = _deliver(database, smtp_settings, smtp_server, moment)
    assert mail["Subject"].startswith(subject)
    assert cost in text_part(mail)
    assert _landing(database, smtp_settings, _button(mail), moment) is None  # the portal's start


@pytest.mark.parametrize(
    ("locale", "scheduled_subject", "ended_subject"),
    [
        ("en_US", "Your Acme Starter subscription will end on", "Your Acme Starter subscription has ended"),
        ("fr_FR", "Votre abonnement Acme Starter prendra fin le", "Votre abonnement Acme Starter est terminé"),
    ],
)
def test_cancellation_at_period_end_then_the_end_each_send_a_mail(
    database: Database,
    smtp_settings: Settings,
    smtp_server: SmtpServer,
    locale: str,
    scheduled_subject: str,
    ended_subject: str,
) -> None:
    subscription_id = add_subscription(database)
    _set_customer(database, subscription_id, locale=locale)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        access = PortalAccess(
            link_id="pl_test", merchant_id=subscription.merchant_id, customer_id=subscription.customer_id, return_url=""
        )
        cancel_subscription(
            session=session, access=access, subscription_id=subscription_id, actor=ACTOR, clock=lambda: PERIOD_END
        )
    [scheduled] = _deliver(database, smtp_settings, smtp_server, PERIOD_END)
    assert scheduled["Subject"].startswith(scheduled_subject)
    assert _landing(database, smtp_settings, _button(scheduled), PERIOD_END) is None  # the portal, to undo it
    advance(database=database, now=PERIOD_END + timedelta(minutes=1), gateway=CardGateway())
    ended = _deliver(database, smtp_settings, smtp_server, PERIOD_END + timedelta(minutes=1))[1]
    assert ended["Subject"] == ended_subject


def test_a_switched_off_mail_is_not_sent_and_reply_to_is_the_merchants_choice(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    failing, paying = add_subscription(database, last4="0341"), add_subscription(database)
    with database.transaction() as session:
        merchant_id = session.get_one(Subscription, failing).merchant_id
        draft = get_mail_settings(session=session, merchant_id=merchant_id)
        save_mail_settings(
            session=session,
            merchant_id=merchant_id,
            draft=type(draft)(enabled=draft.enabled - {MailKind.PAYMENT_FAILED}, reply_to="Billing@Acme.test"),
        )
    _set_customer(database, paying, email="paying@example.com")
    moment = PERIOD_END + timedelta(minutes=1)
    advance(database=database, now=moment, gateway=CardGateway())
    assert _deliver(database, smtp_settings, smtp_server, moment) == []  # the failed payment's mail is off
    [mail] = _deliver(database, smtp_settings, smtp_server, moment, to="paying@example.com")  # the receipt
    assert mail["Reply-To"] == "billing@acme.test"


def test_names_colours_and_links_cannot_inject_html() -> None:
    branding = MailBranding(
        business_name='Evil <img src=x onerror=alert(1)> & "Co"',
        brand_color="red;background:url(javascript:alert(1))",
        logo_url="javascript:alert(1)",
        support_email="help@evil.test",
    )
    content = compose(
        MailKind.RECEIPT,
        {"amount": 100, "currency": "usd", "number": "<b>1</b>", "at": "2026-12-01T00:00:00+00:00"},
        customer_name="<script>alert(1)</script>",
        locale="en_US",
        time_zone="UTC",
        branding=branding,
        button_url='https://portal.test/portal/x"><script>',
    )
    mail = render(content, branding, "en_US")
    for forbidden in ("<script>", "<img src=x", "<b>1</b>", "javascript:", "red;"):
        assert forbidden not in mail.html
    assert "&lt;script&gt;" in mail.html and "#635bff" in mail.html
    assert content.button is None  # an address with quotes is not used as a link
    assert "<script>alert(1)</script>" in mail.text  # plain text stays as typed


def test_without_smtp_lifecycle_mails_are_written_and_kept_in_the_outbox(
    database: Database, settings: Settings
) -> None:
    add_subscription(database)
    moment = PERIOD_END + timedelta(minutes=1)
    advance(database=database, now=moment, gateway=CardGateway())
    assert send_due(database=database, settings=settings, clock=lambda: moment).kept >= 1
    with database.transaction() as session:
        merchant = session.scalars(select(Merchant).where(Merchant.invoice_prefix == "ACME")).one()
        from app.services.emails import list_emails

        mails = list_emails(session=session, merchant_id=merchant.id, page_size=500).emails
        [mail] = [email for email in mails if email.to_address == "clock@example.com"]
    assert mail.subject == "Your receipt from Acme Cloud" and "/portal/" in mail.body


def test_every_mail_text_is_translated_in_every_catalog() -> None:
    source = (Path(__file__).resolve().parents[2] / "app" / "services" / "mail_text.py").read_text(encoding="utf-8")
    msgids = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and isinstance(node.args[0], ast.Constant)
    }
    assert len(msgids) > 30
    for catalog in ("de", "fr", "zh_Hans"):
        with (LOCALES_DIR / catalog / "LC_MESSAGES" / "mails.po").open("rb") as handle:
            translated = {message.id for message in read_po(handle) if message.id and message.string}
        assert msgids - translated == set(), catalog


def test_a_cancellation_through_the_api_mails_the_customer_too(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    subscription_id = add_subscription(database)
    with database.transaction() as session:
        update_subscription(
            session=session,
            merchant_id=session.get_one(Subscription, subscription_id).merchant_id,
            subscription_id=subscription_id,
            cancel_at_period_end=True,
            actor=ACTOR,
            clock=lambda: PERIOD_END - timedelta(days=1),
        )
    [mail] = _deliver(database, smtp_settings, smtp_server, PERIOD_END - timedelta(days=1))
    assert mail["Subject"].startswith("Your Acme Starter subscription will end on")
