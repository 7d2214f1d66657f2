"""The Customers list (search, pages, empty states) and a customer's details (Copy url, revoking links, 404)."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from app.db import Database
from app.models import Customer, Merchant, PortalLink, Subscription, SubscriptionStatus
from app.services.accounts import create_merchant
from tests.conftest import DEMO_PASSWORD
from tests.ui.conftest import log_in
from tests.ui.eventually import eventually


def _database(path: Path) -> Database:
    return Database(f"sqlite:///{path}")


def _customer(app_env: Path, business_name: str = "Acme Cloud", order: int = 0) -> Customer:
    database = _database(app_env)
    with database.transaction() as session:
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == business_name)).one()
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == merchant_id).order_by(Customer.email).offset(order).limit(1)
        ).one()
    database.dispose()
    return customer


def _links(app_env: Path, customer_id: str) -> list[PortalLink]:
    database = _database(app_env)
    with database.transaction() as session:
        links = list(session.scalars(select(PortalLink).where(PortalLink.customer_id == customer_id)))
    database.dispose()
    return links


async def test_search_narrows_the_list_and_says_when_nothing_matches(user: User, app_env: Path) -> None:
    await log_in(user, then="/customers")
    await user.should_see("Customers")
    await user.should_see(kind=ui.link, content="Chloé Müller")
    search = user.find(kind=ui.input, content="Search customers")
    search.type("MÜLLER")
    await user.should_see(kind=ui.link, content="Wei Müller", retries=30)
    await user.should_not_see(kind=ui.link, content="Sophia Moreau", retries=30)
    search.clear().type("no-such-customer-xyz")
    await user.should_see("No customers match “no-such-customer-xyz”", retries=30)
    user.find(kind=ui.button, content="Clear search").click()
    await user.should_see(kind=ui.link, content="Sophia Moreau", retries=30)


async def test_the_search_is_kept_in_the_address(user: User) -> None:
    await log_in(user, then="/customers?q=fischer")
    await user.should_see(kind=ui.link, content="Emma Fischer")
    await user.should_not_see(kind=ui.link, content="Chloé Müller")


def _customer_hrefs(user: User) -> set[str]:
    links = user.find(kind=ui.link).elements
    return {link.props["href"] for link in links if str(link.props.get("href", "")).startswith("/customers/")}


async def test_older_and_newer_pages(user: User) -> None:
    await log_in(user, then="/customers")
    await user.should_see("Page 1")
    first_page = _customer_hrefs(user)
    user.find(kind=ui.button, content="Older").click()
    await user.should_see("Page 2", retries=30)
    second_page = _customer_hrefs(user)
    assert len(first_page) == 25 and second_page and not first_page & second_page
    user.find(kind=ui.button, content="Newer").click()
    await user.should_see("Page 1", retries=30)
    assert _customer_hrefs(user) == first_page


async def test_a_merchant_without_customers_sees_the_empty_state(user: User, app_env: Path) -> None:
    database = _database(app_env)
    with database.transaction() as session:
        create_merchant(session=session, business_name="Initech", email="owner@initech.test", password=DEMO_PASSWORD)
    database.dispose()
    await log_in(user, email="owner@initech.test", then="/customers")
    await user.should_see("No customers yet")


async def test_home_redirects_to_customers(user: User) -> None:
    await log_in(user, then="/customers")
    response = await user.http_client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/customers")


async def test_details_show_the_customers_account(user: User, app_env: Path) -> None:
    customer = _customer(app_env)
    await log_in(user, then=f"/customers/{customer.id}")
    await user.should_see(customer.email)
    for heading in ("Profile", "Addresses", "Subscriptions", "Payment methods", "Invoices", "Recent activity"):
        await user.should_see(kind=ui.label, content=heading)
    await user.should_see("No links yet. Use “Copy url” to create one.")


async def test_copy_url_shows_a_fresh_link_each_time(user: User, app_env: Path) -> None:
    customer = _customer(app_env)
    await log_in(user, then=f"/customers/{customer.id}")
    user.find(kind=ui.button, content="Copy url").click()
    await user.should_see("Portal link copied to the clipboard")
    (field,) = user.find(kind=ui.input, content="Portal URL").elements
    first_url = field.value
    assert "/portal/" in first_url
    await user.should_see("Valid until")
    valid_until = next(
        label.text for label in user.find(kind=ui.label).elements if label.text.startswith("Valid until")
    )
    assert valid_until.endswith(("EST", "EDT"))  # Acme's time zone is America/New_York
    user.find(kind=ui.button, content="Copy url").click()
    await eventually(lambda: field.value != first_url, "a second link")  # issued off the event loop
    assert len(_links(app_env, customer.id)) == 2


def _buttons(user: User, text: str) -> list[ui.button]:
    """Buttons labelled exactly `text` (`content=` also matches longer labels), in page order."""
    found = [button for button in user.find(kind=ui.button, content=text).elements if button.text == text]
    return sorted(found, key=lambda button: button.id)


def _click(user: User, button: ui.button) -> None:
    UserInteraction(user, {button}, None).click()


async def test_revoking_one_link_and_then_all_asks_first(user: User, app_env: Path) -> None:
    customer = _customer(app_env)
    await log_in(user, then=f"/customers/{customer.id}")
    for _ in range(3):
        user.find(kind=ui.button, content="Copy url").click()
    # Each link is issued off the event loop, and the links list re-renders after each.
    await eventually(lambda: len(_buttons(user, "Revoke")) == 3, "three links")

    _click(user, _buttons(user, "Revoke")[0])
    await user.should_see("Revoke this link?")
    _click(user, _buttons(user, "Revoke link")[0])
    await user.should_see("Link revoked", retries=30)
    await user.should_see(kind=ui.label, content="Revoked", retries=30)
    assert sum(link.revoked_at is not None for link in _links(app_env, customer.id)) == 1
    assert len(_buttons(user, "Revoke")) == 2

    _click(user, _buttons(user, "Revoke all links")[0])
    await user.should_see("Revoke all links?")
    _click(user, _buttons(user, "Cancel")[0])
    assert sum(link.revoked_at is not None for link in _links(app_env, customer.id)) == 1
    _click(user, _buttons(user, "Revoke all links")[0])
    await user.should_see("Revoke all links?")
    _click(user, _buttons(user, "Revoke all links")[-1])  # the dialog's button comes after the page's
    await user.should_see("2 links revoked", retries=30)
    await user.should_not_see(kind=ui.label, content="Active", retries=30)
    assert all(link.revoked_at is not None for link in _links(app_env, customer.id))
    assert _buttons(user, "Revoke") == []


async def test_another_merchants_customer_is_a_404_page(user: User, app_env: Path) -> None:
    globex_customer = _customer(app_env, "Globex")
    await log_in(user, then="/customers")
    for customer_id in (globex_customer.id, "cus_doesnotexist"):
        response = await user.http_client.get(f"/customers/{customer_id}")
        assert response.status_code == 404
        assert "Customer not found" in response.text
        assert globex_customer.email not in response.text


async def test_the_customers_cancellation_reason_and_comment_show_as_text_beside_the_subscription(
    user: User, database: Database
) -> None:
    with database.transaction() as session:
        acme = session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Acme Cloud")).one()
        subscription = session.scalars(
            select(Subscription)
            .where(Subscription.merchant_id == acme, Subscription.status == SubscriptionStatus.ACTIVE)
            .order_by(Subscription.id)
            .limit(1)
        ).one()
        subscription.cancel_at_period_end = True
        subscription.canceled_at = subscription.current_period_start
        subscription.cancellation_reason = "too_expensive"
        subscription.cancellation_comment = "<b>Too pricey</b> for a team of two"
        customer_id, subscription_id = subscription.customer_id, subscription.id

    await log_in(user, then=f"/customers/{customer_id}")
    await user.should_see(subscription_id)
    with user.scope(marker="cancellation-feedback"):
        await user.should_see("Cancellation reason: It's too expensive")
        await user.should_see("Comment: <b>Too pricey</b> for a team of two")  # the markup is shown, not applied


async def test_the_details_page_loads_the_account_details_once(user: User, app_env: Path) -> None:
    """One query of the merchant's row per request: the scaffold loads the account details and hands them on."""
    customer = _customer(app_env)
    await log_in(user, then="/customers")
    statements: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        await user.open(f"/customers/{customer.id}")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    await user.should_see("Customer portal link")
    assert sum("FROM merchants" in statement for statement in statements) == 1, statements
