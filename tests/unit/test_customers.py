"""The Customers list and details: indexed case-insensitive substring search, keyset pages, merchant scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.enums import EventType
from app.errors import NotFound, ValidationFailed
from app.models import Customer, Event, EventSource, Subscription, SubscriptionStatus
from app.services.customers import find_customer, get_customer_details, list_customers
from app.services.events import Actor
from app.services.portal import load_portal_view
from app.services.portal_links import PortalAccess, issue_link, open_link
from app.views import CancellationFeedback
from benchmarks.queries import captured_statements, explain, plan_problems
from tests.conftest import DEMO_NOW, only_on
from tests.unit.portal_support import merchant_id_of


def _all_pages(session: Session, merchant_id: str, query: str = "", page_size: int = 7) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = list_customers(session=session, merchant_id=merchant_id, query=query, after=after, page_size=page_size)
        ids.extend(row.id for row in page.customers)
        if page.next_cursor is None:
            return ids
        after = page.next_cursor


def _matches(session: Session, merchant_id: str, needle: str) -> set[str]:
    """The expected answer, computed the slow way in Python."""
    customers = session.scalars(select(Customer).where(Customer.merchant_id == merchant_id))
    return {c.id for c in customers if needle.casefold() in c.name.casefold() or needle.casefold() in c.email}


def test_pages_walk_every_customer_once_newest_first(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        ids = _all_pages(session, acme)
        expected = session.scalars(
            select(Customer.id)
            .where(Customer.merchant_id == acme)
            .order_by(Customer.created_at.desc(), Customer.id.desc())
        ).all()
    assert ids == list(expected)
    assert len(ids) == 67  # 64 in the status cycle, the paused one and the two whose card is declined


@pytest.mark.parametrize("query", ["MÜLLER", "müller", "example.com", "ANDERSSON2", "a.g", "ch", "E"])
def test_search_is_a_case_insensitive_substring_of_name_or_email(database: Database, query: str) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        found = _all_pages(session, acme, query)
        expected = _matches(session, acme, query)
    assert expected, "the demo data should contain matches for this query"
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_search_only_finds_the_merchants_own_customers(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        globex = merchant_id_of(session, "Globex")
        globex_customer = session.scalars(select(Customer).where(Customer.merchant_id == globex).limit(1)).one()
        assert list_customers(session=session, merchant_id=acme, query=globex_customer.email).customers == ()
        found = list_customers(session=session, merchant_id=globex, query=globex_customer.email).customers
    assert [row.id for row in found] == [globex_customer.id]


def test_rows_summarise_subscriptions_most_urgent_first(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        rows = list_customers(session=session, merchant_id=acme, page_size=100).customers
    statuses = {status for row in rows for status in row.subscription_statuses}
    assert {"active", "past_due", "canceled", "trialing"} <= statuses
    assert any(row.cancel_pending for row in rows)


def test_the_search_index_follows_inserts_renames_and_deletes(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        customer = Customer(merchant_id=acme, name="Zebulon Quixote", email="zq@example.org", created_at=DEMO_NOW)
        session.add(customer)
    with database.transaction() as session:
        assert [r.id for r in list_customers(session=session, merchant_id=acme, query="quixo").customers] == [
            customer.id
        ]
        session.get_one(Customer, customer.id).name = "Zebulon Sancho"
    with database.transaction() as session:
        assert list_customers(session=session, merchant_id=acme, query="quixo").customers == ()
        assert len(list_customers(session=session, merchant_id=acme, query="SANCHO").customers) == 1
        session.delete(session.get_one(Customer, customer.id))
    with database.transaction() as session:
        assert list_customers(session=session, merchant_id=acme, query="sancho").customers == ()
        if database.engine.dialect.name == "sqlite":
            # the FTS rowid mapping is explicit, so nothing is left behind for the deleted customer
            assert session.scalar(text("SELECT count(*) FROM customer_search_keys")) == session.scalar(
                select(text("count(*)")).select_from(Customer)
            )


@only_on("sqlite", "The FTS5 trigram index")
def test_sqlite_search_uses_the_trigram_index_and_listing_the_merchant_index(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        search, listing = _plans(database, session, acme, "EXPLAIN QUERY PLAN", column=3)
    assert "VIRTUAL TABLE" in search
    assert "USING INDEX ix_customers_merchant_created" in listing
    assert not any("SCAN customers" in plan or "TEMP B-TREE" in plan for plan in (search, listing))


@only_on("postgresql", "The pg_trgm GIN index")
def test_postgresql_search_uses_the_trigram_indexes_and_listing_the_merchant_index(database: Database) -> None:
    # With the demo's few dozen customers PostgreSQL rightly scans the table; give it a merchant of a realistic
    # size (planner statistics and a flushed GIN pending list, as autovacuum leaves them) so its choice means something.
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        session.execute(
            insert(Customer),
            [
                {"merchant_id": acme, "name": f"Customer {number:05}", "email": f"c{number}@example.net"}
                for number in range(5000)
            ],
        )
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE customers"))
    with database.transaction() as session:
        search, listing = _plans(database, session, acme, "EXPLAIN", column=0)
    assert "customer_search_name_trgm" in search and "customer_search_email_trgm" in search
    assert "ix_customers_merchant_created" in listing
    assert not any("Seq Scan" in plan for plan in (search, listing))
    assert "Sort" not in listing


def _plans(database: Database, session: Session, merchant_id: str, explain: str, column: int) -> tuple[str, str]:
    """The query plans of a customer search ("müller") and of the first page of the plain list."""
    with captured_statements(database.engine) as seen:
        assert len(list_customers(session=session, merchant_id=merchant_id, query="müller").customers) == 3
        list_customers(session=session, merchant_id=merchant_id)
    connection = session.connection()
    search, listing = (
        " ".join(str(row[column]) for row in connection.exec_driver_sql(f"{explain} {statement}", parameters))
        for statement, parameters in seen
        if "FROM customer" in statement
    )
    return search, listing


def test_bad_input_gets_field_errors(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        for kwargs in ({"after": "garbage"}, {"query": "müller", "after": "x1"}, {"query": "x" * 101}):
            with pytest.raises(ValidationFailed):
                list_customers(session=session, merchant_id=acme, **kwargs)
        # FTS5 syntax in a query is just text to look for
        assert list_customers(session=session, merchant_id=acme, query='"OR" NEAR(a b) *').customers == ()


def test_details_show_the_customers_account_and_recent_activity(database: Database, settings: Settings) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == acme).order_by(Customer.email).limit(1)
        ).one()
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=acme,
            customer_id=customer.id,
            created_by="test",
            clock=lambda: DEMO_NOW - timedelta(hours=2),
        )
        open_link(
            session=session,
            settings=settings,
            token=link.url.rsplit("/", 1)[1],
            actor=Actor(source=EventSource.PORTAL),
            clock=lambda: DEMO_NOW - timedelta(hours=1),
        )
        details = get_customer_details(session=session, merchant_id=acme, customer_id=customer.id)
    assert details.customer.email == customer.email
    assert details.subscriptions and details.payment_methods
    assert details.invoices == tuple(sorted(details.invoices, key=lambda invoice: invoice.created_at, reverse=True))
    assert len(details.invoices) <= 12
    assert details.activity[0].title == "Opened the portal"


@only_on("sqlite", "EXPLAIN QUERY PLAN")
def test_customer_details_and_the_portal_read_through_indexes(database: Database) -> None:
    """What `make bench` checks at 100,000 customers, on every run: no full scan of a big table, no sort."""
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        customer = session.scalars(select(Customer).where(Customer.merchant_id == acme).limit(1)).one()
    access = PortalAccess(link_id="plans", merchant_id=acme, customer_id=customer.id, return_url="")
    for operation in (
        lambda session: get_customer_details(session=session, merchant_id=acme, customer_id=customer.id),
        lambda session: load_portal_view(session=session, access=access),
    ):
        assert plan_problems(explain(database, operation)) == []


def test_details_of_another_merchants_customer_are_not_found(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        globex = merchant_id_of(session, "Globex")
        globex_customer = session.scalars(select(Customer.id).where(Customer.merchant_id == globex).limit(1)).one()
        events_before = session.scalar(select(text("count(*)")).select_from(Event))
        with pytest.raises(NotFound):
            get_customer_details(session=session, merchant_id=acme, customer_id=globex_customer)
        with pytest.raises(NotFound):
            get_customer_details(session=session, merchant_id=acme, customer_id="cus_doesnotexist")
        assert session.scalar(select(text("count(*)")).select_from(Event)) == events_before


def test_find_customer_by_id_or_email_in_any_case(database: Database) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        customer = session.scalars(select(Customer).where(Customer.merchant_id == acme).limit(1)).one()
        assert find_customer(session=session, key=customer.email.upper()) == [(acme, customer.id)]
        assert find_customer(session=session, key=customer.id, merchant_id=acme) == [(acme, customer.id)]
        assert find_customer(session=session, key=customer.id, merchant_id="acct_other") == []
        assert find_customer(session=session, key="nobody@example.com") == []


def test_event_titles_read_like_sentences() -> None:
    assert EventType.label_for("portal.link.revoked") == "Portal link revoked"
    assert EventType.label_for("customer.subscription.updated") == "Subscription updated"
    assert EventType.label_for("invoice.finalized") == "Invoice finalized"  # a type this version does not know


def test_details_carry_cancellation_feedback_only_for_canceled_or_cancel_pending_subscriptions(
    database: Database,
) -> None:
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        subscription = session.scalars(
            select(Subscription)
            .where(
                Subscription.merchant_id == acme,
                Subscription.status == SubscriptionStatus.ACTIVE,
                Subscription.cancel_at_period_end.is_(False),  # a pending cancellation would rightly show feedback
            )
            .order_by(Subscription.id)
            .limit(1)
        ).one()
        subscription.cancellation_reason, subscription.cancellation_comment = "missing_features", "No SSO"
        session.flush()
        still_active = get_customer_details(session=session, merchant_id=acme, customer_id=subscription.customer_id)
        subscription.status = SubscriptionStatus.CANCELED
        session.flush()
        canceled = get_customer_details(session=session, merchant_id=acme, customer_id=subscription.customer_id)
        subscription_id = subscription.id

    assert still_active.cancellations == ()
    assert canceled.cancellations == (
        CancellationFeedback(subscription_id=subscription_id, reason="Some features are missing", comment="No SSO"),
    )
