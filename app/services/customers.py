"""The merchant's customers: indexed search, keyset pages of the list, and the customer details page's data."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, Integer, Select, String, column, func, or_, select, table
from sqlalchemy.orm import Session, selectinload

from app.enums import CancellationReason, EmailStatus, EventSource, EventType, SubscriptionStatus
from app.errors import ValidationFailed
from app.keyset import STALE_CURSOR, after_cursor, split_page
from app.models import (
    Customer,
    EmailMessage,
    Event,
    Invoice,
    Merchant,
    Payment,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
)
from app.services.portal_links import merchant_customer
from app.services.resource_views import (
    customer_view,
    invoice_view,
    payment_method_view,
    payment_view,
    subscription_view,
)
from app.views import CancellationFeedback, CustomerDetails, CustomerPage, CustomerRow, EventView

PAGE_SIZE = 25
MAX_QUERY_LENGTH = 100
# Trigrams need three characters; shorter queries walk the merchant's list index instead (see `list_customers`).
MIN_INDEXED_QUERY = 3
RECENT_INVOICES = 12
RECENT_ACTIVITY = 20
RECENT_PAYMENTS = 10

# The SQLite search index from migration 7a1c0f3e9b21 (raw SQL, so not ORM models).
_search = table("customer_search", column("rowid", Integer), column("customer_search", String))
_search_keys = table("customer_search_keys", column("id", Integer), column("customer_id", String))


def list_customers(
    *, session: Session, merchant_id: str, query: str = "", after: str | None = None, page_size: int = PAGE_SIZE
) -> CustomerPage:
    """One page of the merchant's customers, optionally those whose name or email contains `query`.

    Case-insensitive substring search. Pages are keyset-paginated (`after` is the previous page's `next_cursor`),
    so page 1000 costs what page 1 costs. Without a query the order is newest first. With three or more
    characters on SQLite the FTS5 trigram index answers, in the order customers were added (newest first), which
    needs no sort of the matches. Shorter queries cannot use trigrams: they walk the merchant's newest-first
    index and stop as soon as a page is full.
    """
    text = " ".join(query.split())
    errors = {}
    if len(text) > MAX_QUERY_LENGTH:
        errors["query"] = f"Search with at most {MAX_QUERY_LENGTH} characters."
    if not 1 <= page_size <= 100:
        errors["page_size"] = "Show between 1 and 100 customers per page."
    if errors:
        raise ValidationFailed(errors)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and len(text) >= MIN_INDEXED_QUERY:
        customers, next_cursor = _trigram_page(session, merchant_id, text, after, page_size)
    else:
        customers, next_cursor = _list_page(session, merchant_id, text, dialect, after, page_size)
    statuses = _subscription_summaries(session, [customer.id for customer in customers])
    return CustomerPage(
        customers=tuple(
            CustomerRow(
                id=customer.id,
                name=customer.name,
                email=customer.email,
                created_at=customer.created_at,
                subscription_statuses=statuses[customer.id][0],
                cancel_pending=statuses[customer.id][1],
            )
            for customer in customers
        ),
        query=text,
        next_cursor=next_cursor,
    )


def _trigram_page(
    session: Session, merchant_id: str, text: str, after: str | None, page_size: int
) -> tuple[list[Customer], str | None]:
    phrase = '"' + text.replace('"', '""') + '"'  # one FTS5 phrase: the whole query as a substring
    statement = (
        select(Customer, _search.c.rowid)
        .select_from(_search)
        .join(_search_keys, _search_keys.c.id == _search.c.rowid)
        .join(Customer, Customer.id == _search_keys.c.customer_id)
        .where(
            _search.c.customer_search.op("MATCH")(phrase),
            Customer.merchant_id == merchant_id,
            Customer.deleted_at.is_(None),
        )
        .order_by(_search.c.rowid.desc())
        .limit(page_size + 1)
    )
    if after is not None:
        if not after.isdigit():
            raise ValidationFailed({"after": STALE_CURSOR})
        statement = statement.where(_search.c.rowid < int(after))
    rows = session.execute(statement).all()
    next_cursor = str(rows[page_size - 1][1]) if len(rows) > page_size else None
    return [row[0] for row in rows[:page_size]], next_cursor


def _list_page(
    session: Session, merchant_id: str, text: str, dialect: str, after: str | None, page_size: int
) -> tuple[list[Customer], str | None]:
    statement: Select[tuple[Customer]] = (
        select(Customer)
        .where(Customer.merchant_id == merchant_id, Customer.deleted_at.is_(None))
        .order_by(Customer.created_at.desc(), Customer.id.desc())
        .limit(page_size + 1)
    )
    if text:
        statement = statement.where(_contains(text, dialect))
    if after is not None:
        statement = statement.where(after_cursor(Customer.created_at, Customer.id, after))
    customers, next_cursor = split_page(list(session.scalars(statement)), page_size)
    return list(customers), next_cursor


def _contains(text: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive substring match on name or email (PostgreSQL: served by the pg_trgm GIN indexes)."""
    if dialect == "postgresql":
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return or_(Customer.name.ilike(pattern, escape="\\"), Customer.email.ilike(pattern, escape="\\"))
    needle = text.lower()
    return or_(func.instr(func.lower(Customer.name), needle) > 0, func.instr(func.lower(Customer.email), needle) > 0)


def _subscription_summaries(session: Session, customer_ids: list[str]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Per customer: distinct statuses, most urgent first, and whether a live one cancels at period end."""
    found: dict[str, set[SubscriptionStatus]] = defaultdict(set)
    cancel_pending: set[str] = set()
    if customer_ids:
        rows = session.execute(
            select(Subscription.customer_id, Subscription.status, Subscription.cancel_at_period_end).where(
                Subscription.customer_id.in_(customer_ids)
            )
        )
        for customer_id, status, cancels in rows:
            found[customer_id].add(status)
            if cancels and status in SubscriptionStatus.billable():
                cancel_pending.add(customer_id)
    return {
        customer_id: (
            tuple(status for status in SubscriptionStatus.by_urgency() if status in found[customer_id]),
            customer_id in cancel_pending,
        )
        for customer_id in customer_ids
    }


def get_customer_details(*, session: Session, merchant_id: str, customer_id: str) -> CustomerDetails:
    """Profile, addresses, cards, subscriptions, recent invoices and recent activity; a fixed number of queries."""
    customer = merchant_customer(session, merchant_id, customer_id)
    subscriptions = [
        subscription
        for subscription in session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == customer.id, Subscription.merchant_id == merchant_id)
            .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price).selectinload(Price.product))
            .order_by(Subscription.created_at.desc())
        )
        if subscription.items
    ]
    payment_methods = session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer.id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at, PaymentMethod.id)
    )
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer.id, Invoice.merchant_id == merchant_id)
            .order_by(Invoice.created_at.desc())
            .limit(RECENT_INVOICES + 1)
        )
    )
    payments = session.execute(
        select(Payment, Invoice.number)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.customer_id == customer.id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(RECENT_PAYMENTS)
    ).all()
    events = session.scalars(
        select(Event)
        .where(Event.customer_id == customer.id)  # customer ids are unique, and this one is the merchant's
        .order_by(Event.created_at.desc())
        .limit(RECENT_ACTIVITY)
    )
    activity = [event_view(event, customer_name=customer.name, customer_email=customer.email) for event in events]
    # The mails the portal wrote to the customer belong to their activity too (they are not webhook events).
    mails = session.scalars(
        select(EmailMessage)
        .where(EmailMessage.customer_id == customer.id, EmailMessage.merchant_id == merchant_id)
        .order_by(EmailMessage.created_at.desc())
        .limit(RECENT_ACTIVITY)
    )
    activity += [_mail_entry(mail, customer) for mail in mails]
    activity.sort(key=lambda entry: entry.created_at, reverse=True)
    return CustomerDetails(
        customer=customer_view(customer),
        created_at=customer.created_at,
        subscriptions=tuple(subscription_view(subscription) for subscription in subscriptions),
        payment_methods=tuple(payment_method_view(method) for method in payment_methods),
        invoices=tuple(invoice_view(invoice) for invoice in invoices[:RECENT_INVOICES]),
        more_invoices=len(invoices) > RECENT_INVOICES,
        activity=tuple(activity[:RECENT_ACTIVITY]),
        cancellations=tuple(
            CancellationFeedback(
                subscription_id=subscription.id,
                reason=CancellationReason.label_for(subscription.cancellation_reason),
                comment=subscription.cancellation_comment,
            )
            for subscription in subscriptions
            if (subscription.status == SubscriptionStatus.CANCELED or subscription.cancel_at_period_end)
            and (subscription.cancellation_reason or subscription.cancellation_comment)
        ),
        payments=tuple(payment_view(payment, number) for payment, number in payments),
    )


def event_view(event: Event, *, customer_name: str, customer_email: str) -> EventView:
    """An event as the dashboard lists it, with the name and email of its customer (empty when it has none)."""
    return EventView(
        id=event.id,
        type=event.type,
        title=EventType.label_for(event.type),
        created_at=event.created_at,
        source=event.source,
        customer_id=event.customer_id,
        customer_name=customer_name,
        customer_email=customer_email,
        object_id=event.object_id,
        portal_link_id=event.portal_link_id,
        ip_address=event.ip_address,
        user_agent=event.user_agent,
    )


def _mail_entry(mail: EmailMessage, customer: Customer) -> EventView:
    """A mail to the customer as an entry of their activity: "Email sent: Your receipt from Acme Cloud"."""
    sent = {EmailStatus.SENT: "Email sent", EmailStatus.FAILED: "Email not delivered"}.get(mail.status, "Email")
    return EventView(
        id=mail.id,
        type="email",
        title=f"{sent}: {mail.subject}",
        created_at=mail.created_at,
        source=EventSource.SYSTEM,
        customer_id=customer.id,
        customer_name=customer.name,
        customer_email=customer.email,
        object_id=mail.id,
        portal_link_id=None,
        ip_address="",
        user_agent="",
    )


def find_customer(*, session: Session, key: str, merchant_id: str | None = None) -> list[tuple[str, str]]:
    """Customers named by a `cus_…` id or an email, as (merchant id, customer id); several when ambiguous."""
    key = key.strip()
    statement = select(Customer.merchant_id, Customer.id).where(Customer.deleted_at.is_(None))
    if key.startswith("cus_"):
        statement = statement.where(Customer.id == key)
    else:
        statement = statement.where(Customer.email == key.lower())
    # Comparing merchant ids lets the (merchant_id, email) index answer even when no merchant is given.
    merchants = [merchant_id] if merchant_id is not None else select(Merchant.id).scalar_subquery()
    statement = statement.where(Customer.merchant_id.in_(merchants))
    return [(row[0], row[1]) for row in session.execute(statement.order_by(Customer.merchant_id, Customer.id))]
