"""The merchant's sign-in page `/p/login/{handle}`: one neutral answer for every address, given before the lookup;
a mailed link opens the portal once, and again shows "already used" with the same form."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.models import Customer, EmailMessage, Merchant
from app.services import portal_sign_in
from tests.mail_support import links_in
from tests.ui.eventually import eventually

ANSWER = "If that address has an account with Acme Cloud, we've sent a link to it."


def _acme_customer(app_env: Path) -> Customer:
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:
        acme = session.scalars(select(Merchant.id).where(Merchant.handle == "acme")).one()
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == acme).order_by(Customer.email).limit(1)
        ).one()
        session.expunge(customer)
    database.dispose()
    return customer


def _sign_in_mails(app_env: Path) -> list[EmailMessage]:
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:
        mails = list(session.scalars(select(EmailMessage).where(EmailMessage.kind == portal_sign_in.SIGN_IN_MAIL_KIND)))
        session.expunge_all()
    database.dispose()
    return mails


def _answer(user: User) -> str:
    (status,) = [label for label in user.find(kind=ui.label).elements if label.props.get("role") == "status"]
    return status.text


async def _ask(user: User, email: str) -> None:
    user.find("Email").clear().type(email)
    user.find(kind=ui.button, content="Send me a link").click()
    await user.should_see(ANSWER)


async def test_known_and_unknown_emails_get_the_same_answer_and_only_the_known_one_a_mail(
    user: User, app_env: Path
) -> None:
    customer = _acme_customer(app_env)
    await user.open("/p/login/acme")
    await user.should_see("Sign in to Acme Cloud")
    await _ask(user, "nobody-here@example.com")
    unknown_answer = _answer(user)
    await _ask(user, customer.email)
    assert _answer(user) == unknown_answer == ANSWER
    await eventually(lambda: len(_sign_in_mails(app_env)) == 1, "one sign-in mail")
    (mail,) = _sign_in_mails(app_env)
    assert mail.to_address == customer.email

    (url,) = links_in(mail.body)
    path = "/portal/" + url.rsplit("/portal/", 1)[1]
    await user.open(path)  # follows the redirect to the portal's own link
    await user.should_see(customer.name)
    await user.open(path)
    await user.should_see("This link has already been used")
    await _ask(user, customer.email)  # the same form on the "already used" page


async def test_the_answer_does_not_wait_for_the_lookup(user: User, app_env: Path) -> None:
    """The answer is on the page while the database is locked for writing: its time cannot depend on the lookup."""
    customer = _acme_customer(app_env)
    await user.open("/p/login/acme")
    lock = sqlite3.connect(app_env, timeout=5)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        await _ask(user, customer.email)
        assert _sign_in_mails(app_env) == []
    finally:
        lock.rollback()
        lock.close()
    await eventually(lambda: len(_sign_in_mails(app_env)) == 1, "the mail once the database is free")


async def test_a_malformed_email_is_asked_again_without_an_answer(user: User) -> None:
    await user.open("/p/login/acme")
    user.find("Email").type("not an email")
    user.find(kind=ui.button, content="Send me a link").click()
    (field,) = user.find(kind=ui.input, content="Email").elements
    await eventually(lambda: bool(field.error), "a field error")
    assert _answer(user) == ""


async def test_the_page_speaks_the_browsers_language_and_unknown_handles_are_not_found(user: User) -> None:
    response = await user.http_client.get("/p/login/acme", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert response.status_code == 200
    assert '<html lang="de' in response.text or 'lang="de' in response.text
    missing = await user.http_client.get("/p/login/no-such-shop")
    assert missing.status_code == 404
    assert "does not exist" in missing.text or "This sign-in page" in missing.text
