"""The Developers page: adding a webhook endpoint shows its secret once; the endpoint page rolls, logs and deletes."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from app.db import Database
from app.enums import EventType
from app.models import Customer, Merchant, WebhookEndpoint
from app.services.webhooks import create_endpoint, delete_endpoint, dispatch_events
from tests.conftest import DEMO_NOW
from tests.event_support import record_sample_event
from tests.ui.conftest import log_in
from tests.ui.eventually import eventually


def merchant_id(database: Database, prefix: str = "ACME") -> str:
    with database.transaction() as session:
        return session.scalars(select(Merchant.id).where(Merchant.invoice_prefix == prefix)).one()


def saved_endpoints(database: Database) -> list[WebhookEndpoint]:
    with database.transaction() as session:
        return list(session.scalars(select(WebhookEndpoint)))


async def test_adding_an_endpoint_checks_the_url_and_shows_the_secret_once(user: User, database: Database) -> None:
    await log_in(user, then="/developers")
    await user.should_see("No endpoints yet")

    user.find(marker="add-endpoint").click()
    user.find("Endpoint URL").type("http://hooks.example.com/portal")
    user.find(marker="save-endpoint").click()
    [url_input] = user.find("Endpoint URL").elements
    assert isinstance(url_input, ui.input)
    message = "Enter a full https:// address, like https://example.com/webhooks."
    await eventually(lambda: url_input.error == message, "the URL to be refused")  # saved off the event loop
    assert saved_endpoints(database) == []

    user.find("Endpoint URL").clear().type("https://hooks.example.com/portal")
    user.find(kind=ui.radio).elements.pop().set_value("selected")
    user.find(kind=ui.checkbox, content="invoice.paid").click()
    user.find(marker="save-endpoint").click()
    await user.should_see("Endpoint added", retries=30)

    [endpoint] = saved_endpoints(database)
    [secret_input] = user.find("Signing secret").elements
    assert isinstance(secret_input, ui.input)
    assert secret_input.value == endpoint.secret and endpoint.secret.startswith("whsec_")
    assert (endpoint.url, endpoint.event_types) == ("https://hooks.example.com/portal", ["invoice.paid"])
    user.find(kind=ui.button, content="Done").click()
    await user.should_see("https://hooks.example.com/portal")
    await user.should_see("1 event type")

    await user.open("/developers")  # the secret is not shown again
    await user.should_not_see("whsec_")
    await user.should_not_see("Signing secret")


async def test_the_endpoint_page_shows_the_log_rolls_the_secret_and_deletes_after_confirmation(
    user: User, database: Database
) -> None:
    acme = merchant_id(database)
    with database.transaction() as session:
        created = create_endpoint(
            session=session,
            merchant_id=acme,
            url="https://hooks.example.com/portal",
            description="Accounting sync",
            event_types=["*"],
            allow_insecure=False,
            clock=lambda: DEMO_NOW,
        )
        customer_id = session.scalars(select(Customer.id).where(Customer.merchant_id == acme).limit(1)).one()
        record_sample_event(session, customer_id, EventType.INVOICE_PAID)
    dispatch_events(database=database, now=DEMO_NOW)

    await log_in(user, then=f"/developers/webhooks/{created.endpoint.id}")
    await user.should_see("Accounting sync")
    await user.should_see("Sends: All events")
    await user.should_see("invoice.paid")
    await user.should_see("Pending")
    await user.should_see("0 of 12 attempts · waiting to be sent")

    user.find(marker="roll-secret").click()
    await user.should_see("Roll the signing secret?")
    user.find(kind=ui.button, content="Create new secret").click()
    await user.should_see("New signing secret", retries=30)
    [endpoint] = saved_endpoints(database)
    assert endpoint.secret != created.secret and endpoint.previous_secret == created.secret
    user.find(kind=ui.button, content="Done").click()

    user.find(marker="delete-endpoint").click()
    await user.should_see("Delete this endpoint?")
    user.find(kind=ui.button, content="Cancel").click()
    assert len(saved_endpoints(database)) == 1
    user.find(marker="delete-endpoint").click()
    user.find(kind=ui.button, content="Delete endpoint").click()
    await user.should_see("No endpoints yet", retries=30)
    assert saved_endpoints(database) == []


async def test_another_merchants_endpoint_is_not_shown(user: User, database: Database) -> None:
    with database.transaction() as session:
        created = create_endpoint(
            session=session,
            merchant_id=merchant_id(database, "GLX"),
            url="https://globex.example.com/hooks",
            description="",
            event_types=["*"],
            allow_insecure=False,
            clock=lambda: DEMO_NOW,
        )
    await log_in(user, then="/developers")
    for endpoint_id in (created.endpoint.id, "we_doesnotexist"):
        response = await user.http_client.get(f"/developers/webhooks/{endpoint_id}")
        assert response.status_code == 404
        assert "This webhook endpoint does not exist" in response.text
        assert "globex.example.com" not in response.text


async def test_an_endpoint_deleted_in_another_tab_is_reported_not_failed(user: User, database: Database) -> None:
    acme = merchant_id(database)
    with database.transaction() as session:
        created = create_endpoint(
            session=session,
            merchant_id=acme,
            url="https://hooks.example.com/portal",
            description="",
            event_types=["*"],
            allow_insecure=False,
            clock=lambda: DEMO_NOW,
        )
    await log_in(user, then=f"/developers/webhooks/{created.endpoint.id}")
    await user.should_see("Sends: All events")
    with database.transaction() as session:
        delete_endpoint(session=session, merchant_id=acme, endpoint_id=created.endpoint.id)

    user.find(marker="roll-secret").click()
    user.find(kind=ui.button, content="Create new secret").click()
    await user.should_see("This webhook endpoint no longer exists.", retries=30)
    await user.should_not_see("New signing secret")
