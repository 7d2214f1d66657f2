"""Signing in from the merchant's sign-in page, read from a real SMTP server: one mail for a known email and none
for an unknown one, single-use links that expire after an hour, several accounts in one mail, rate limits."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import Database
from app.errors import LinkExpired, LinkUsed
from app.models import Customer
from app.services.emails import send_due
from app.services.portal_links import PortalAccess, continue_sign_in, open_link
from app.services.portal_sign_in import (
    MAILS_PER_EMAIL_PER_HOUR,
    REQUESTS_PER_CLIENT_PER_HOUR,
    merchant_by_handle,
    request_sign_in_link,
)
from tests.conftest import DEMO_NOW
from tests.mail_support import SmtpServer, links_in, text_part
from tests.unit.portal_support import ACTOR, merchant_id_of

CLIENT = "198.51.100.7"


def acme_customer(database: Database, *, skip: int = 0) -> Customer:
    with database.transaction() as session:
        customer = session.scalars(
            select(Customer)
            .where(Customer.merchant_id == merchant_id_of(session, "Acme Cloud"))
            .order_by(Customer.email)
            .offset(skip)
            .limit(1)
        ).one()
        session.expunge(customer)
        return customer


def ask(
    database: Database,
    settings: Settings,
    email: str,
    *,
    handle: str = "acme",
    client: str = CLIENT,
    minutes: int = 0,
    locale: str = "en_US",
) -> None:
    with database.transaction() as session:
        merchant = merchant_by_handle(session=session, handle=handle)
    assert merchant is not None
    result = request_sign_in_link(
        database=database,
        settings=settings,
        merchant_id=merchant.merchant_id,
        email=email,
        client_address=client,
        locale=locale,
        actor=ACTOR,
        clock=lambda: DEMO_NOW + timedelta(minutes=minutes),
    )
    assert result is None  # nothing to tell the visitor, whatever the address
    send_due(database=database, settings=settings, clock=lambda: DEMO_NOW + timedelta(minutes=minutes))


def token_of(url: str) -> str:
    return urlsplit(url).path.removeprefix("/portal/")


def open_at(database: Database, settings: Settings, url: str, minutes: int = 0) -> PortalAccess:
    with database.transaction() as session:
        return open_link(
            session=session, settings=settings, token=token_of(url), clock=lambda: DEMO_NOW + timedelta(minutes=minutes)
        )


def test_a_known_email_gets_one_mail_and_an_unknown_one_none(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    customer = acme_customer(database)
    ask(database, smtp_settings, "nobody-here@example.com")
    ask(database, smtp_settings, f"  {customer.email.upper()} ")
    (mail,) = smtp_server.wait_for(1)
    assert mail["To"] == customer.email
    assert mail["Subject"] == "Your link to sign in to Acme Cloud"
    assert "Acme Cloud" in mail["From"]
    body = text_part(mail)
    (url,) = links_in(body)
    assert "works once, within an hour" in body
    access = open_at(database, smtp_settings, url, minutes=5)
    assert (access.customer_id, access.single_use) == (customer.id, True)
    assert smtp_server.to("nobody-here@example.com") == []


def test_a_sign_in_link_works_once_and_continues_on_a_link_of_its_own(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    ask(database, smtp_settings, acme_customer(database).email)
    (url,) = links_in(text_part(smtp_server.wait_for(1)[0]))
    access = open_at(database, smtp_settings, url)
    with database.transaction() as session:
        session_link = continue_sign_in(
            session=session, settings=smtp_settings, access=access, actor=ACTOR, clock=lambda: DEMO_NOW
        )
    with pytest.raises(LinkUsed):
        open_at(database, smtp_settings, url, minutes=1)
    reopened = open_at(database, smtp_settings, session_link.url, minutes=1)
    assert not reopened.single_use
    assert open_at(database, smtp_settings, session_link.url, minutes=2).customer_id == access.customer_id


def test_a_sign_in_link_expires_after_an_hour(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    ask(database, smtp_settings, acme_customer(database).email)
    (url,) = links_in(text_part(smtp_server.wait_for(1)[0]))
    with pytest.raises(LinkExpired):
        open_at(database, smtp_settings, url, minutes=61)


def test_the_mail_links_the_live_account_only_not_deleted_ones_or_other_merchants(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    """An address belongs to one live customer of a merchant (a unique index): a deleted account with it, and another
    merchant's customer with it, get no link in this merchant's mail."""
    first = acme_customer(database)
    with database.transaction() as session:
        merchant_id = merchant_id_of(session, "Acme Cloud")
        session.add(
            Customer(
                merchant_id=merchant_id, name="Deleted One", email=first.email, created_at=DEMO_NOW, deleted_at=DEMO_NOW
            )
        )
        # The same address at another merchant is that merchant's business.
        globex = merchant_id_of(session, "Globex")
        session.add(Customer(merchant_id=globex, name="Globex Account", email=first.email, created_at=DEMO_NOW))
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(Customer(merchant_id=merchant_id, name="Second Workspace", email=first.email, created_at=DEMO_NOW))
    ask(database, smtp_settings, first.email, locale="de_DE")
    (mail,) = smtp_server.wait_for(1)
    body = text_part(mail)
    assert mail["Subject"] == "Ihr Link zur Anmeldung bei Acme Cloud"
    assert "Deleted One" not in body and "Globex Account" not in body
    (url,) = links_in(body)
    assert open_at(database, smtp_settings, url).customer_id == first.id


def test_soft_deleted_customers_get_nothing(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    with database.transaction() as session:
        session.add(
            Customer(
                merchant_id=merchant_id_of(session, "Acme Cloud"),
                name="Gone",
                email="gone@example.com",
                created_at=DEMO_NOW,
                deleted_at=DEMO_NOW,
            )
        )
    ask(database, smtp_settings, "gone@example.com")
    ask(database, smtp_settings, acme_customer(database).email)  # a mail that does arrive, to wait for
    smtp_server.wait_for(1)
    assert smtp_server.to("gone@example.com") == []


def test_at_most_three_mails_per_email_an_hour(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    customer = acme_customer(database)
    for attempt in range(MAILS_PER_EMAIL_PER_HOUR + 2):
        ask(database, smtp_settings, customer.email, client=f"198.51.100.{attempt}", minutes=attempt)
    smtp_server.wait_for(MAILS_PER_EMAIL_PER_HOUR)
    ask(database, smtp_settings, acme_customer(database, skip=1).email, minutes=10)  # a marker: all before it is sent
    smtp_server.wait_for(MAILS_PER_EMAIL_PER_HOUR + 1)
    assert len(smtp_server.to(customer.email)) == MAILS_PER_EMAIL_PER_HOUR
    ask(database, smtp_settings, customer.email, minutes=61)  # the first mail is an hour old now
    smtp_server.wait_for(MAILS_PER_EMAIL_PER_HOUR + 2)
    assert len(smtp_server.to(customer.email)) == MAILS_PER_EMAIL_PER_HOUR + 1


def test_at_most_twenty_requests_per_client_address_an_hour(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    for attempt in range(REQUESTS_PER_CLIENT_PER_HOUR):
        ask(database, smtp_settings, f"guess{attempt}@example.com")
    known = acme_customer(database)
    ask(database, smtp_settings, known.email, minutes=1)  # the 21st request from this address: nothing happens
    ask(database, smtp_settings, acme_customer(database, skip=1).email, client="203.0.113.50", minutes=2)
    (mail,) = smtp_server.wait_for(1)
    assert mail["To"] == acme_customer(database, skip=1).email
    ask(database, smtp_settings, known.email, minutes=61)  # an hour later the address may ask again
    assert smtp_server.wait_for(2)[1]["To"] == known.email


def test_unknown_handles_name_no_merchant(database: Database) -> None:
    with database.transaction() as session:
        assert merchant_by_handle(session=session, handle="acme") is not None
        assert merchant_by_handle(session=session, handle="no-such-shop") is None
        assert merchant_by_handle(session=session, handle="x" * 500) is None
