"""A billing email changed in the portal, read from a real SMTP server: unchanged until confirmed from the new
address, the old address notified, Resend and Cancel change, single use, 24 hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import EmailTaken, Forbidden, LinkExpired, LinkRevoked, LinkUsed, ValidationFailed
from app.models import Customer, Event, EventSource, utcnow
from app.services.customer_records import update_customer
from app.services.emails import send_due
from app.services.events import Actor
from app.services.portal import load_portal_data, update_billing_details
from app.services.portal.email_change import (
    CONFIRMATIONS_PER_HOUR,
    TOO_MANY_CONFIRMATIONS,
    cancel_email_change,
    confirm_email_change,
    resend_email_change,
)
from app.services.portal_links import PortalAccess
from app.views import BillingDetailsInput
from app.views.inputs import CustomerInput
from tests.mail_support import SmtpServer, links_in, text_part
from tests.unit.portal_support import ACTOR, access_to

NEW = "jenny.new@example.com"


# The portal reads a pending change with the real clock, so the changes here happen now.
NOW = utcnow()


def _at(minutes: int = 0) -> Callable[[], datetime]:
    return lambda: NOW + timedelta(minutes=minutes)


def _email(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return session.get_one(Customer, access.customer_id).email


def _change(database: Database, settings: Settings, access: PortalAccess, email: str = NEW) -> None:
    with database.transaction() as session:
        update_billing_details(
            session=session,
            access=access,
            details=BillingDetailsInput(email=email),
            actor=ACTOR,
            clock=_at(),
            settings=settings,
            locale="en_US",
        )
    send_due(database=database, settings=settings, clock=_at())


def _confirm(database: Database, settings: Settings, url: str, minutes: int = 1) -> str:
    token = urlsplit(url).path.removeprefix("/p/confirm-email/")
    with database.transaction() as session:
        return confirm_email_change(
            session=session, settings=settings, token=token, actor=ACTOR, clock=_at(minutes)
        ).email


def _pending(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return load_portal_data(session=session, access=access).customer.pending_email


def test_the_email_changes_only_when_confirmed_from_the_new_address_and_the_old_one_is_told(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    access = access_to(database)
    old = _email(database, access)
    _change(database, smtp_settings, access)
    smtp_server.wait_for(2)
    assert _email(database, access) == old and _pending(database, access) == NEW
    (confirmation,) = smtp_server.to(NEW)
    (notice,) = smtp_server.to(old)
    assert confirmation["Subject"] == "Confirm your new email address for Acme Cloud"
    notice_text = text_part(notice)
    assert NEW in notice_text and "support@acme.test" in notice_text and links_in(notice_text) == []
    (url,) = links_in(text_part(confirmation))
    assert "/p/confirm-email/" in url

    assert _confirm(database, smtp_settings, url) == NEW
    assert _email(database, access) == NEW and _pending(database, access) == ""
    with database.transaction() as session:
        event = session.scalars(
            select(Event).where(Event.customer_id == access.customer_id, Event.type == "customer.updated")
        ).one()
        assert event.data["previous_attributes"]["email"] == old
    with pytest.raises(LinkUsed):
        _confirm(database, smtp_settings, url, minutes=2)


def test_cancel_change_stops_the_link_and_resend_mails_it_again(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    access = access_to(database)
    old = _email(database, access)
    _change(database, smtp_settings, access)
    smtp_server.wait_for(2)
    with database.transaction() as session:
        resend_email_change(session=session, settings=smtp_settings, access=access, clock=_at(5))
    send_due(database=database, settings=smtp_settings, clock=_at(5))
    smtp_server.wait_for(3)
    first, second = smtp_server.to(NEW)
    assert links_in(text_part(first)) != links_in(text_part(second))
    with database.transaction() as session:
        cancel_email_change(session=session, access=access, clock=_at(6))
    assert _pending(database, access) == ""
    for mail in (first, second):
        with pytest.raises(LinkRevoked):
            _confirm(database, smtp_settings, links_in(text_part(mail))[0], minutes=7)
    assert _email(database, access) == old


def test_an_address_another_customer_got_meanwhile_is_not_taken_over(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    """One live customer per address and merchant: the confirmation says so instead of failing on the index."""
    access = access_to(database)
    old = _email(database, access)
    _change(database, smtp_settings, access)
    smtp_server.wait_for(2)
    (confirmation,) = smtp_server.to(NEW)
    other = access_to(database, skip=1)
    with database.transaction() as session:
        update_customer(
            session=session,
            merchant_id=other.merchant_id,
            customer_id=other.customer_id,
            details=CustomerInput(email=NEW),
            actor=Actor(source=EventSource.MERCHANT),
            clock=_at(),
        )
    with pytest.raises(EmailTaken):
        _confirm(database, smtp_settings, links_in(text_part(confirmation))[0])
    assert _email(database, access) == old and _email(database, other) == NEW


def test_a_newer_change_replaces_the_older_and_links_expire_after_24_hours(
    database: Database, smtp_settings: Settings, smtp_server: SmtpServer
) -> None:
    access = access_to(database)
    _change(database, smtp_settings, access, "first.try@example.com")
    _change(database, smtp_settings, access, NEW)
    smtp_server.wait_for(4)
    (older,) = smtp_server.to("first.try@example.com")
    with pytest.raises(LinkRevoked):
        _confirm(database, smtp_settings, links_in(text_part(older))[0])
    (newer,) = smtp_server.to(NEW)
    with pytest.raises(LinkExpired):
        _confirm(database, smtp_settings, links_in(text_part(newer))[0], minutes=24 * 60 + 1)


def test_confirmation_mails_are_capped_per_customer_and_hour(database: Database, smtp_settings: Settings) -> None:
    """A portal link must not turn the portal into a mail cannon: three confirmations an hour, then a clear refusal."""
    access = access_to(database)
    for number in range(CONFIRMATIONS_PER_HOUR):
        _change(database, smtp_settings, access, f"try{number}@example.com")
    with pytest.raises(ValidationFailed) as refused, database.transaction() as session:
        resend_email_change(session=session, settings=smtp_settings, access=access, clock=_at(5))
    assert refused.value.field_errors == {"email": TOO_MANY_CONFIRMATIONS}
    with pytest.raises(ValidationFailed):
        _change(database, smtp_settings, access, "one.more@example.com")
    assert _pending(database, access) == f"try{CONFIRMATIONS_PER_HOUR - 1}@example.com"
    with database.transaction() as session:
        resend_email_change(session=session, settings=smtp_settings, access=access, clock=_at(61))


def test_a_new_email_is_never_saved_without_its_confirmation(database: Database) -> None:
    access = access_to(database)
    with pytest.raises(Forbidden), database.transaction() as session:
        update_billing_details(
            session=session, access=access, details=BillingDetailsInput(email=NEW), actor=ACTOR, clock=_at()
        )


def test_a_merchant_changes_the_email_directly_and_it_is_recorded(database: Database) -> None:
    access = access_to(database)
    old = _email(database, access)
    with database.transaction() as session:
        update_customer(
            session=session,
            merchant_id=access.merchant_id,
            customer_id=access.customer_id,
            details=CustomerInput(email=NEW),
            actor=Actor(source=EventSource.MERCHANT),
            clock=_at(),
        )
    assert _email(database, access) == NEW
    with database.transaction() as session:
        event = session.scalars(select(Event).where(Event.customer_id == access.customer_id)).one()
        assert (event.type, event.source, event.data["previous_attributes"]["email"]) == (
            "customer.updated",
            EventSource.MERCHANT,
            old,
        )
