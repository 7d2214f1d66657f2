"""Importing customers (and optionally their subscriptions) from a CSV file, for the CLI and the Customers page.

The whole file is checked before anything is written: with any bad row nothing is imported (unless the caller skips
bad rows), and every bad row is reported with its line, column and reason. Then the file is read again and written in
batches: new customers with one bulk insert per batch, customers whose email the merchant already has updated in
bulk (only what changed), their events in bulk. Rows with a price start a subscription unless the customer already has
one of that price that is not canceled, so importing the same file twice changes nothing the second time. Memory stays
bounded: rows are streamed, and only a hash per email (duplicates) and the bad line numbers are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import BinaryIO, cast

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.clock import Clock
from app.customer_csv import FileProblem, Problem, Row, open_rows, subscription_problems
from app.db import Database
from app.enums import EventType, SubscriptionStatus
from app.errors import DomainError, ValidationFailed
from app.gateways.base import PaymentGateway
from app.i18n import supported_locale
from app.models import Customer, Event, Price, Product, Subscription, SubscriptionItem, new_id
from app.services.api_objects import CustomerObject
from app.services.customer_records import customer_changes
from app.services.events import Actor, event_values
from app.services.portal.billing_details import clean_address
from app.services.resource_views import address_columns
from app.services.subscription_records import MAX_QUANTITY, MAX_TRIAL_DAYS, start_subscription
from app.validation import format_phone, normalize_email
from app.views.inputs import CustomerInput, SubscriptionInput, SubscriptionItemInput

BATCH_SIZE = 1000
Progress = Callable[[str, int, int], None]  # (phase "checking" | "importing", rows done, rows in all; 0 = unknown)
_new_customer_id = new_id("cus")
_new_event_id = new_id("evt")
# What a customer made by an insert has in the columns the file does not set (for its event's payload).
_DEFAULTS = {column.key: column.default.arg for column in Customer.__table__.columns if column.default is not None}


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int  # data rows in the file
    imported: bool  # False: the file had bad rows and nothing was written
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    subscriptions_started: int = 0
    skipped: int = 0  # bad rows left out (skip_invalid)
    problems: tuple[Problem, ...] = ()


@dataclass
class _Check:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)


def import_customers(
    *,
    database: Database,
    merchant_id: str,
    open_file: Callable[[], BinaryIO],
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Check the file (opened twice by `open_file`), then import it; see the module's description."""
    report = progress or (lambda _phase, _done, _total: None)
    try:
        check = _check(database, merchant_id, open_file, clock, report)
    except FileProblem as problem:
        return ImportResult(rows=0, imported=False, problems=tuple(problem.problems))
    problems = tuple(sorted(check.problems, key=lambda problem: problem.line))
    if problems and not skip_invalid:
        return ImportResult(rows=check.rows, imported=False, problems=problems)
    totals = {"created": 0, "updated": 0, "unchanged": 0, "subscriptions_started": 0}
    done = 0
    with open_file() as stream:
        _header, rows = open_rows(stream)
        for batch in _batches(row for row in rows if row.line not in check.bad_lines):
            for name, count in _write_batch(database, merchant_id, batch, gateway, actor, clock).items():
                totals[name] += count
            done += len(batch)
            report("importing", done, check.rows - len(check.bad_lines))
    return ImportResult(rows=check.rows, imported=True, skipped=len(check.bad_lines), problems=problems, **totals)


def _check(
    database: Database, merchant_id: str, open_file: Callable[[], BinaryIO], clock: Clock, report: Progress
) -> _Check:
    check = _Check()
    first_line_of: dict[bytes, int] = {}
    prices: dict[str, bool] = {}
    today = clock().date()
    with open_file() as stream, database.transaction() as session:
        _header, rows = open_rows(stream)
        for row in rows:
            check.rows += 1
            row_problems = _row_problems(row, first_line_of)
            if price_id := row.values.get("price", ""):
                if price_id not in prices:
                    prices[price_id] = _is_choosable(session, merchant_id, price_id)
                if not prices[price_id]:
                    reason = "Unknown price: use the ID (price_…) of one of your active prices, from the Products page."
                    row_problems.append(Problem(row.line, "price", reason))
            row_problems += subscription_problems(row, today, MAX_TRIAL_DAYS, MAX_QUANTITY)[0]
            if row_problems:
                check.problems += row_problems
                check.bad_lines.add(row.line)
            if check.rows % BATCH_SIZE == 0:
                report("checking", check.rows, 0)
    report("checking", check.rows, check.rows)
    return check


def _row_problems(row: Row, first_line_of: dict[bytes, int]) -> list[Problem]:
    problems: list[Problem] = []
    if "" in row.values:
        problems.append(Problem(row.line, "", "The line has more cells than the header has columns."))
    try:
        changes = customer_changes(_customer_input(row))
    except ValidationFailed as failed:
        return problems + [Problem(row.line, _column(name), message) for name, message in failed.field_errors.items()]
    key = hashlib.blake2b(str(changes["email"]).encode(), digest_size=12).digest()
    if (first := first_line_of.setdefault(key, row.line)) != row.line:
        problems.append(Problem(row.line, "email", f"Duplicate email: line {first} has it already."))
    return problems


def _column(field_name: str) -> str:
    """The service's field name (`address.country`) as the file's column (`address_country`)."""
    return field_name.replace(".", "_")


def _customer_input(row: Row) -> CustomerInput:
    values = row.values
    return CustomerInput(
        email=values.get("email", ""),
        name=values.get("name"),
        phone=values.get("phone"),
        locale=values.get("locale"),
        address=row.address,
    )


def _is_choosable(session: Session, merchant_id: str, price_id: str) -> bool:
    return (
        session.scalar(
            select(Price.id)
            .join(Product, Product.id == Price.product_id)
            .where(Price.id == price_id, Price.merchant_id == merchant_id, Price.active, Product.active)
        )
        is not None
    )


def _batches(rows: Iterator[Row]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_batch(
    database: Database, merchant_id: str, batch: list[Row], gateway: PaymentGateway, actor: Actor, clock: Clock
) -> dict[str, int]:
    now = clock()
    counts = {"created": 0, "updated": 0, "unchanged": 0, "subscriptions_started": 0}
    columns_of = {row.line: _columns(row) for row in batch}
    customer_of_line: dict[int, str] = {}
    with database.transaction() as session:
        emails = [str(columns["email"]) for columns in columns_of.values()]
        existing = {
            row.email: row
            for row in session.execute(
                select(Customer.__table__).where(
                    Customer.merchant_id == merchant_id, Customer.email.in_(emails), Customer.deleted_at.is_(None)
                )
            )
        }
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for row in batch:
            columns = columns_of[row.line]
            current = existing.get(str(columns["email"]))
            if current is None:
                values = {"id": _new_customer_id(), "merchant_id": merchant_id, "created_at": now, **columns}
                inserts.append(values)
                customer_of_line[row.line] = str(values["id"])
                created = _customer_object(values)
                events.append(_event(merchant_id, EventType.CUSTOMER_CREATED, created, None, actor, now))
                continue
            customer_of_line[row.line] = current.id
            changed = {name: value for name, value in columns.items() if getattr(current, name) != value}
            if not changed:
                counts["unchanged"] += 1
                continue
            before = _customer_object(current._asdict())
            updates.append({"id": current.id, **changed})
            after = _customer_object({**current._asdict(), **changed})
            events.append(_event(merchant_id, EventType.CUSTOMER_UPDATED, after, before, actor, now))
        if inserts:
            session.execute(insert(Customer), inserts)
        if updates:
            session.execute(update(Customer), updates)
        if events:
            session.execute(insert(Event), events)
        counts["created"], counts["updated"] = len(inserts), len(updates)
        wanted = [(row, customer_of_line[row.line]) for row in batch if row.values.get("price")]
        having = _live_prices(session, [customer_id for _row, customer_id in wanted])
    for row, customer_id in wanted:
        if (customer_id, row.values["price"]) in having:
            continue  # imported before: no second identical subscription
        _problems, quantity, trial_end = subscription_problems(row, now.date(), MAX_TRIAL_DAYS, MAX_QUANTITY)
        details = SubscriptionInput(
            customer_id=customer_id,
            items=(SubscriptionItemInput(price_id=row.values["price"], quantity=quantity),),
            trial_end=trial_end,
        )
        try:
            start_subscription(
                database=database,
                merchant_id=merchant_id,
                subscription=details,
                gateway=gateway,
                actor=actor,
                clock=clock,
            )
        except DomainError:  # changed since the check (a price archived meanwhile): the customer is imported anyway
            continue
        having.add((customer_id, row.values["price"]))
        counts["subscriptions_started"] += 1
    return counts


def _columns(row: Row) -> dict[str, object]:
    """The row's values as customer columns (only the columns the file has), normalised as `customer_changes` does.

    The row passed `customer_changes` in the check already: this repeats only the normalising steps, which halves the
    work of the second pass (the email and phone parsers are most of an import's time).
    """
    values = row.values
    columns: dict[str, object] = {"email": normalize_email(values["email"])}
    if "name" in values:
        columns["name"] = values["name"]
    if "phone" in values:
        columns["phone"] = format_phone(values["phone"]) if values["phone"] else ""
    if "locale" in values:
        columns["locale"] = (supported_locale(values["locale"]) or "") if values["locale"] else ""
    if (address := row.address) is not None:
        columns.update(address_columns("address", clean_address(address)))
    return columns


def _customer_object(values: dict[str, object]) -> CustomerObject:
    merged = {_attribute(name): (value({}) if callable(value) else value) for name, value in _DEFAULTS.items()}
    merged.update({_attribute(name): value for name, value in values.items()})
    # A plain namespace has the attributes `from_row` reads, without building an ORM object per row.
    return CustomerObject.from_row(cast(Customer, SimpleNamespace(**merged)), default_payment_method=None)


def _attribute(column: str) -> str:
    return "metadata_" if column == "metadata" else column


def _event(
    merchant_id: str,
    event_type: EventType,
    resource: CustomerObject,
    previous: CustomerObject | None,
    actor: Actor,
    now: datetime,
) -> dict[str, object]:
    """An event row for a bulk insert: `event_values` plus the id that an ORM insert would have made."""
    values = event_values(
        merchant_id=merchant_id,
        customer_id=resource.id,
        event_type=event_type,
        resource=resource,
        previous=previous,
        actor=actor,
        created_at=now,
    )
    return {"id": _new_event_id(), **values}


def _live_prices(session: Session, customer_ids: list[str]) -> set[tuple[str, str]]:
    """(customer, price) of the subscriptions these customers have that are not canceled."""
    if not customer_ids:
        return set()
    rows = session.execute(
        select(Subscription.customer_id, SubscriptionItem.price_id)
        .join(SubscriptionItem, SubscriptionItem.subscription_id == Subscription.id)
        .where(Subscription.customer_id.in_(customer_ids), Subscription.status != SubscriptionStatus.CANCELED)
    )
    return {(customer_id, price_id) for customer_id, price_id in rows}
