from datetime import timedelta

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import LinkExpired, LinkInvalid, LinkRevoked, NotFound
from app.models import Customer, Event, EventSource, Merchant, PortalLink
from app.services.events import Actor
from app.services.portal_links import issue_link, open_link
from tests.conftest import DEMO_NOW


def _customer_of(database: Database, business_name: str) -> tuple[str, str]:
    with database.transaction() as session:
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == business_name)).one()
        customer_id = session.scalars(select(Customer.id).where(Customer.merchant_id == merchant_id).limit(1)).one()
    return merchant_id, customer_id


def _issue(database: Database, settings: Settings, merchant_id: str, customer_id: str):
    with database.transaction() as session:
        return issue_link(
            session=session,
            settings=settings,
            merchant_id=merchant_id,
            customer_id=customer_id,
            created_by="test",
            clock=lambda: DEMO_NOW,
        )


def _open(database: Database, settings: Settings, token: str, hours_later: float = 0):
    with database.transaction() as session:
        return open_link(
            session=session, settings=settings, token=token, clock=lambda: DEMO_NOW + timedelta(hours=hours_later)
        )


def _token(url: str) -> str:
    return url.rsplit("/portal/", 1)[1]


def test_round_trip_names_the_customer_and_records_use(database: Database, settings: Settings) -> None:
    merchant_id, customer_id = _customer_of(database, "Acme Cloud")
    link = _issue(database, settings, merchant_id, customer_id)
    assert link.url.startswith(f"{settings.effective_public_url}/portal/")
    assert link.expires_at == DEMO_NOW + timedelta(hours=24)
    access = _open(database, settings, _token(link.url), hours_later=1)
    assert (access.merchant_id, access.customer_id, access.link_id) == (merchant_id, customer_id, link.id)
    with database.transaction() as session:
        assert session.get_one(PortalLink, link.id).last_used_at == DEMO_NOW + timedelta(hours=1)


def test_use_is_recorded_to_the_minute_not_on_every_page_load(database: Database, settings: Settings) -> None:
    link = _issue(database, settings, *_customer_of(database, "Acme Cloud"))
    token = _token(link.url)

    def last_used() -> object:
        with database.transaction() as session:
            return session.get_one(PortalLink, link.id).last_used_at

    _open(database, settings, token, hours_later=1)
    _open(database, settings, token, hours_later=1 + 50 / 3600)
    assert last_used() == DEMO_NOW + timedelta(hours=1)
    _open(database, settings, token, hours_later=1 + 61 / 3600)
    assert last_used() == DEMO_NOW + timedelta(hours=1, seconds=61)


def test_one_changed_character_is_invalid(database: Database, settings: Settings) -> None:
    link = _issue(database, settings, *_customer_of(database, "Acme Cloud"))
    token = _token(link.url)
    tampered = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (tampered, token[:-5], "", "not-a-token"):
        with pytest.raises(LinkInvalid):
            _open(database, settings, bad)


def test_expired_and_revoked_links_are_told_apart(database: Database, settings: Settings) -> None:
    merchant_id, customer_id = _customer_of(database, "Acme Cloud")
    link = _issue(database, settings, merchant_id, customer_id)
    with pytest.raises(LinkExpired) as expired:
        _open(database, settings, _token(link.url), hours_later=24.01)
    assert expired.value.merchant_id == merchant_id
    with database.transaction() as session:
        session.get_one(PortalLink, link.id).revoked_at = DEMO_NOW
    with pytest.raises(LinkRevoked):
        _open(database, settings, _token(link.url))


def test_old_key_in_fallbacks_still_verifies_and_unknown_key_does_not(database: Database, settings: Settings) -> None:
    link = _issue(database, settings, *_customer_of(database, "Acme Cloud"))
    rotated = settings.model_copy(update={"secret_key": "a-brand-new-secret-key-0123456789abcdef"})
    with pytest.raises(LinkInvalid):
        _open(database, rotated, _token(link.url))
    rotated_with_fallback = rotated.model_copy(update={"secret_key_fallbacks": [settings.secret_key]})
    assert _open(database, rotated_with_fallback, _token(link.url)).link_id == link.id


def test_links_only_for_the_merchants_own_customers(database: Database, settings: Settings) -> None:
    acme_id, _ = _customer_of(database, "Acme Cloud")
    _, globex_customer = _customer_of(database, "Globex")
    with pytest.raises(NotFound):
        _issue(database, settings, acme_id, globex_customer)


def test_the_opened_event_names_the_link_and_keeps_the_visitors_address(database: Database, settings: Settings) -> None:
    link = _issue(database, settings, *_customer_of(database, "Acme Cloud"))
    visitor = Actor(source=EventSource.PORTAL, ip_address="203.0.113.7", user_agent="Firefox")
    with database.transaction() as session:
        open_link(session=session, settings=settings, token=_token(link.url), actor=visitor, clock=lambda: DEMO_NOW)
    with database.transaction() as session:
        opened = session.scalars(select(Event).where(Event.type == "portal.link.opened", Event.object_id == link.id))
        (event,) = opened.all()
        assert (event.portal_link_id, event.ip_address, event.user_agent) == (link.id, "203.0.113.7", "Firefox")
