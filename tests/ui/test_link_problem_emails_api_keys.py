"""Link problem pages with "Email me a new link", the Emails outbox page, API keys on Account details, /docs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction
from sqlalchemy import select

from app.config import load_settings
from app.db import Database
from app.models import ApiKey, Customer, EmailMessage, Merchant, utcnow
from app.services.portal_links import IssuedLink, issue_link, open_link, revoke_link
from tests.ui.conftest import log_in, sign_out


def _database(path: Path) -> Database:
    return Database(f"sqlite:///{path}")


def _issue(app_env: Path, *, days_ago: float = 0, revoked: bool = False) -> tuple[IssuedLink, Customer]:
    """A link for an Acme customer, issued `days_ago` (the app's TTL is 24 hours), optionally revoked."""
    database = _database(app_env)
    with database.transaction() as session:
        acme = session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Acme Cloud")).one()
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == acme).order_by(Customer.email).limit(1)
        ).one()
        link = issue_link(
            session=session,
            settings=load_settings(),
            merchant_id=acme,
            customer_id=customer.id,
            created_by="test",
            clock=lambda: utcnow() - timedelta(days=days_ago),
        )
        if revoked:
            revoke_link(session=session, merchant_id=acme, link_id=link.id)
    database.dispose()
    return link, customer


def _path(link: IssuedLink) -> str:
    return "/portal/" + link.url.rsplit("/portal/", 1)[1]


def _mails(app_env: Path, customer_id: str) -> list[EmailMessage]:
    database = _database(app_env)
    with database.transaction() as session:
        mails = list(session.scalars(select(EmailMessage).where(EmailMessage.customer_id == customer_id)))
    database.dispose()
    return mails


async def test_an_expired_link_offers_a_new_one_by_email_and_that_link_works(user: User, app_env: Path) -> None:
    link, customer = _issue(app_env, days_ago=2)
    await user.open(_path(link))
    await user.should_see("This link has expired")
    await user.should_see("Acme Cloud")
    await user.should_see(kind=ui.link, content="support@acme.test")
    await user.should_not_see(customer.email)
    user.find(kind=ui.button, content="Email me a new link").click()
    await user.should_see("Check your inbox", retries=30)
    await user.should_not_see(customer.email)
    [mail] = _mails(app_env, customer.id)
    assert mail.to_address == customer.email
    new_url = next(line for line in mail.body.splitlines() if "/portal/" in line)
    database = _database(app_env)
    with database.transaction() as session:
        access = open_link(session=session, settings=load_settings(), token=new_url.rsplit("/", 1)[1])
    database.dispose()
    assert access.customer_id == customer.id

    await user.open(_path(link))  # asking again within ten minutes sends nothing more
    user.find(kind=ui.button, content="Email me a new link").click()
    await user.should_see("We sent you a new link a few minutes ago", retries=30)
    assert len(_mails(app_env, customer.id)) == 1


async def test_a_revoked_link_says_so_in_the_merchants_name(user: User, app_env: Path) -> None:
    link, _ = _issue(app_env, revoked=True)
    await user.open(_path(link))
    await user.should_see("This link is no longer valid")
    await user.should_see("Acme Cloud")
    await user.should_see(kind=ui.button, content="Email me a new link")


async def test_a_tampered_link_is_not_valid_and_names_nobody(user: User, app_env: Path) -> None:
    link, _ = _issue(app_env)
    path = _path(link)
    await user.open(path[:-2] + ("AA" if not path.endswith("AA") else "BB"))
    await user.should_see("This link is not valid")
    await user.should_see("Please ask the business that sent you the link for a new link.")
    await user.should_not_see("Acme Cloud")
    await user.should_not_see(kind=ui.button, content="Email me a new link")


async def test_the_emails_page_shows_the_outbox_to_its_merchant_only(user: User, app_env: Path) -> None:
    link, customer = _issue(app_env, days_ago=2)
    await user.open(_path(link))
    user.find(kind=ui.button, content="Email me a new link").click()
    await user.should_see("Check your inbox", retries=30)
    await log_in(user, then="/emails")
    await user.should_see("No SMTP server is configured")
    await user.should_see("Your new link to manage your Acme Cloud account")
    await user.should_see(f"To {customer.email}")
    await user.should_see(kind=ui.label, content="In outbox")
    await sign_out(user)
    await log_in(user, email="owner@globex.test", then="/emails")
    await user.should_see("No emails yet")


async def test_api_keys_are_shown_once_listed_and_revoked_after_confirming(user: User, app_env: Path) -> None:
    await log_in(user, then="/settings/account")
    await user.should_see("No keys yet.")
    user.find(kind=ui.button, content="Create secret key").click()
    await user.should_see("Your new secret key")
    (secret_field,) = user.find(kind=ui.input, content="Secret key").elements
    secret = secret_field.value
    assert secret.startswith("sk_")
    user.find(kind=ui.button, content="Done").click()
    await user.should_see(f"{secret[:11]}…", retries=30)
    await user.should_not_see(secret)

    revoke = [button for button in user.find(kind=ui.button, content="Revoke").elements if button.text == "Revoke"]
    UserInteraction(user, set(revoke), None).click()
    await user.should_see("Revoke this key?")
    user.find(kind=ui.button, content="Revoke key").click()
    await user.should_see(kind=ui.label, content="Revoked", retries=30)
    database = _database(app_env)
    with database.transaction() as session:
        assert session.scalars(select(ApiKey.revoked_at)).one() is not None
    database.dispose()


async def test_the_api_is_documented_at_docs(user: User) -> None:
    await user.open("/login")
    schema = (await user.http_client.get("/openapi.json")).json()
    assert "/api/v1/portal_sessions" in schema["paths"]
    assert (await user.http_client.get("/docs")).status_code == 200
