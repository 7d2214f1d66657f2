"""The portal's billing email change: "Waiting for confirmation of …" with Resend and Cancel change until the link
sent to the new address is opened; the preview keeps working."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.enums import SubscriptionStatus
from app.models import Customer, EmailMessage
from app.services.portal.email_change import CONFIRM_MAIL_KIND, NOTICE_MAIL_KIND
from tests.mail_support import links_in
from tests.ui.eventually import eventually
from tests.ui.portal_setup import customer_with, link_path

NEW = "pat.new@example.com"


def _mails(database: Database, kind: str) -> list[EmailMessage]:
    with database.transaction() as session:
        mails = list(session.scalars(select(EmailMessage).where(EmailMessage.kind == kind)))
        session.expunge_all()
        return mails


def _email(database: Database, customer_id: str) -> str:
    with database.transaction() as session:
        return session.get_one(Customer, customer_id).email


async def _change_email(user: User) -> None:
    await user.should_see(kind=ui.button, content="Update billing details")  # built once the page has connected
    user.find(kind=ui.button, content="Update billing details").click()
    user.find(kind=ui.input, content="Email").clear().type(NEW)
    user.find(kind=ui.button, content="Save").click()
    await user.should_see(f"Waiting for confirmation of {NEW}", retries=30)


async def test_a_new_email_waits_for_confirmation_and_can_be_resent_or_canceled(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    old = _email(database, customer_id)
    await user.open(link_path(database, settings, customer_id))
    for detail in ("Phone", "Billing address", "Tax ID"):  # shown with or without a change waiting
        await user.should_see(detail)
    await _change_email(user)
    for detail in ("Phone", "Billing address", "Tax ID"):
        await user.should_see(detail)
    assert _email(database, customer_id) == old
    assert [mail.to_address for mail in _mails(database, NOTICE_MAIL_KIND)] == [old]
    user.find(kind=ui.button, content="Resend").click()
    await eventually(lambda: len(_mails(database, CONFIRM_MAIL_KIND)) == 2, "the confirmation mailed again")
    user.find(kind=ui.button, content="Cancel change").click()
    await user.should_not_see(f"Waiting for confirmation of {NEW}", retries=30)
    assert _email(database, customer_id) == old


async def test_opening_the_link_from_the_new_address_changes_the_email(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    portal = link_path(database, settings, customer_id)
    await user.open(portal)
    await _change_email(user)
    (mail,) = _mails(database, CONFIRM_MAIL_KIND)
    (url,) = links_in(mail.body)
    await user.open("/p/confirm-email/" + url.rsplit("/p/confirm-email/", 1)[1])
    await user.should_see("Email address confirmed")
    await user.should_see(f"Your email address with Acme Cloud is now {NEW}.")
    assert _email(database, customer_id) == NEW
    await user.open(portal)
    await user.should_not_see("Waiting for confirmation of")


async def test_a_link_to_an_address_another_customer_has_by_now_says_so(
    user: User, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    await user.open(link_path(database, settings, customer_id))
    await _change_email(user)
    (mail,) = _mails(database, CONFIRM_MAIL_KIND)
    (url,) = links_in(mail.body)
    other = customer_with(database, SubscriptionStatus.PAST_DUE)  # another customer
    with database.transaction() as session:
        session.get_one(Customer, other).email = NEW
    await user.open("/p/confirm-email/" + url.rsplit("/p/confirm-email/", 1)[1])
    await user.should_see("This email address is in use")
    await user.should_see("another customer account has this address", retries=5)
    assert _email(database, customer_id) != NEW
