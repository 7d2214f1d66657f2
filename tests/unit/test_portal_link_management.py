"""Managing a customer's links (list, revoke, revoke all) and "Email me a new link" from a dead link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import LinkExpired, LinkInvalid, LinkRevoked, NotFound
from app.models import Customer, EmailMessage, Event, EventSource
from app.services.events import Actor
from app.services.portal_links import (
    NewLinkOutcome,
    issue_link,
    list_links,
    open_link,
    request_new_link,
    revoke_all_links,
    revoke_link,
)
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import merchant_id_of

MERCHANT = Actor(source=EventSource.MERCHANT)
PORTAL = Actor(source=EventSource.PORTAL, ip_address="203.0.113.7")


def _first_customer(database: Database, business_name: str = "Acme Cloud") -> tuple[str, str]:
    with database.transaction() as session:
        merchant_id = merchant_id_of(session, business_name)
        customer_id = session.scalars(
            select(Customer.id).where(Customer.merchant_id == merchant_id).order_by(Customer.email).limit(1)
        ).one()
    return merchant_id, customer_id


def _issue(database: Database, settings: Settings, merchant_id: str, customer_id: str, at=DEMO_NOW):
    with database.transaction() as session:
        return issue_link(
            session=session,
            settings=settings,
            merchant_id=merchant_id,
            customer_id=customer_id,
            created_by="usr_test",
            actor=MERCHANT,
            clock=lambda: at,
        )


def _token(url: str) -> str:
    return url.rsplit("/portal/", 1)[1]


def test_links_are_listed_newest_first_with_their_status(database: Database, settings: Settings) -> None:
    merchant_id, customer_id = _first_customer(database)
    old = _issue(database, settings, merchant_id, customer_id, at=DEMO_NOW - timedelta(days=2))
    revoked = _issue(database, settings, merchant_id, customer_id, at=DEMO_NOW - timedelta(hours=2))
    active = _issue(database, settings, merchant_id, customer_id, at=DEMO_NOW - timedelta(hours=1))
    with database.transaction() as session:
        revoke_link(
            session=session, merchant_id=merchant_id, link_id=revoked.id, actor=MERCHANT, clock=lambda: DEMO_NOW
        )
        links = list_links(session=session, merchant_id=merchant_id, customer_id=customer_id, clock=lambda: DEMO_NOW)
        created_events = session.scalars(
            select(Event.object_id).where(Event.customer_id == customer_id, Event.type == "portal.link.created")
        ).all()
    assert [(link.id, link.status) for link in links] == [
        (active.id, "active"),
        (revoked.id, "revoked"),
        (old.id, "expired"),
    ]
    assert set(created_events) == {old.id, revoked.id, active.id}


def test_each_new_link_works_alongside_the_older_ones(database: Database, settings: Settings) -> None:
    merchant_id, customer_id = _first_customer(database)
    first = _issue(database, settings, merchant_id, customer_id)
    second = _issue(database, settings, merchant_id, customer_id, at=DEMO_NOW + timedelta(minutes=1))
    assert first.url != second.url
    with database.transaction() as session:
        for link in (first, second):
            access = open_link(
                session=session, settings=settings, token=_token(link.url), clock=lambda: DEMO_NOW + timedelta(hours=2)
            )
            assert access.customer_id == customer_id


def test_revoke_all_stops_every_working_link_once(database: Database, settings: Settings) -> None:
    merchant_id, customer_id = _first_customer(database)
    links = [_issue(database, settings, merchant_id, customer_id) for _ in range(3)]
    with database.transaction() as session:
        count = revoke_all_links(
            session=session, merchant_id=merchant_id, customer_id=customer_id, actor=MERCHANT, clock=lambda: DEMO_NOW
        )
        again = revoke_all_links(
            session=session, merchant_id=merchant_id, customer_id=customer_id, actor=MERCHANT, clock=lambda: DEMO_NOW
        )
    assert (count, again) == (3, 0)
    with database.transaction() as session:
        for link in links:
            with pytest.raises(LinkRevoked):
                open_link(session=session, settings=settings, token=_token(link.url), clock=lambda: DEMO_NOW)


def test_another_merchants_links_cannot_be_listed_or_revoked(database: Database, settings: Settings) -> None:
    acme_id, _ = _first_customer(database)
    globex_id, globex_customer = _first_customer(database, "Globex")
    link = _issue(database, settings, globex_id, globex_customer)
    with database.transaction() as session:
        with pytest.raises(NotFound):
            revoke_link(session=session, merchant_id=acme_id, link_id=link.id)
        with pytest.raises(NotFound):
            revoke_all_links(session=session, merchant_id=acme_id, customer_id=globex_customer)
        with pytest.raises(NotFound):
            list_links(session=session, merchant_id=acme_id, customer_id=globex_customer)
    with database.transaction() as session:
        assert open_link(session=session, settings=settings, token=_token(link.url), clock=lambda: DEMO_NOW)


def _expired_error(database: Database, settings: Settings, merchant_id: str, customer_id: str) -> LinkExpired:
    link = _issue(database, settings, merchant_id, customer_id)
    with database.transaction() as session, pytest.raises(LinkExpired) as expired:
        open_link(
            session=session, settings=settings, token=_token(link.url), clock=lambda: DEMO_NOW + timedelta(days=2)
        )
    return expired.value


def _request(database: Database, settings: Settings, error: Exception, minutes_later: float) -> NewLinkOutcome:
    with database.transaction() as session:
        return request_new_link(
            session=session,
            settings=settings,
            error=error,
            actor=PORTAL,
            clock=lambda: DEMO_NOW + timedelta(days=2, minutes=minutes_later),
        )


def test_a_new_link_is_mailed_to_the_address_on_file_at_most_every_ten_minutes(
    database: Database, settings: Settings
) -> None:
    merchant_id, customer_id = _first_customer(database)
    error = _expired_error(database, settings, merchant_id, customer_id)
    assert _request(database, settings, error, 0) == NewLinkOutcome.SENT
    assert _request(database, settings, error, 9) == NewLinkOutcome.RECENTLY_SENT
    assert _request(database, settings, error, 11) == NewLinkOutcome.SENT
    with database.transaction() as session:
        customer = session.get_one(Customer, customer_id)
        mails = session.scalars(select(EmailMessage).where(EmailMessage.customer_id == customer_id)).all()
        assert [mail.to_address for mail in mails] == [customer.email, customer.email]
        assert all(mail.sent_at is None for mail in mails)  # no SMTP_URL: kept in the local outbox
        assert "Acme Cloud" in mails[0].subject
        url = next(line for line in mails[0].body.splitlines() if "/portal/" in line)
        access = open_link(
            session=session,
            settings=settings,
            token=_token(url),
            clock=lambda: DEMO_NOW + timedelta(days=2, hours=1),
        )
    assert access.customer_id == customer_id


def test_revoked_links_can_ask_for_a_new_link_but_invalid_ones_cannot(database: Database, settings: Settings) -> None:
    merchant_id, customer_id = _first_customer(database)
    revoked = LinkRevoked(merchant_id=merchant_id, customer_id=customer_id)
    assert _request(database, settings, revoked, 0) == NewLinkOutcome.SENT
    assert _request(database, settings, LinkInvalid(), 30) == NewLinkOutcome.NO_EMAIL
    with database.transaction() as session:
        session.get_one(Customer, customer_id).email = ""
    assert _request(database, settings, revoked, 30) == NewLinkOutcome.NO_EMAIL


def test_a_mismatched_merchant_in_the_error_sends_nothing(database: Database, settings: Settings) -> None:
    globex_id, _ = _first_customer(database, "Globex")
    _, acme_customer = _first_customer(database)
    forged = LinkExpired(merchant_id=globex_id, customer_id=acme_customer)
    assert _request(database, settings, forged, 0) == NewLinkOutcome.NO_EMAIL
    with database.transaction() as session:
        assert session.scalars(select(EmailMessage)).all() == []
