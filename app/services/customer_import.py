"""Importing customers (and optionally their subscriptions) from a CSV file, for the CLI and the Customers page.

The whole file is checked before anything is written: with any bad row nothing is imported (unless the caller skips
bad rows), and every bad row is reported with its line, column and reason. Each row is validated once, in that check:
the good rows' normalised values go to a temporary file (JSON lines, a batch a line), from which the writing pass reads
them back in batches: new customers with one bulk insert per batch, customers whose email the merchant already has
updated in bulk (only what changed; unchanged ones are not written), their events in bulk. Rows with a price start a
subscription unless the customer already has one of that price that is not canceled, so importing the same file twice
changes nothing the second time. Memory stays bounded: rows are streamed, and only a hash per email (duplicates) and
one batch of rows at a time are kept.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import IO, BinaryIO, NamedTuple, cast

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.customer_csv import FileProblem, Problem, Row, open_rows, subscription_problems
from app.db import Database
from app.enums import EventType, SubscriptionStatus
from app.errors import DomainError, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import Customer, Event, Price, Product, Subscription, SubscriptionItem, new_id
from app.services.api_objects import CustomerObject
from app.services.customer_records import customer_changes
from app.services.events import Actor, event_values
from app.services.resource_views import address_columns
from app.services.subscription_records import MAX_QUANTITY, MAX_TRIAL_DAYS, start_subscription
from app.views import Address
from app.views.inputs import CustomerInput, SubscriptionInput, SubscriptionItemInput

BATCH_SIZE = 1000
Progress = Callable[[str, int, int], None]  # (phase "checking" | "importing", rows done, rows in all; 0 = unknown)
_new_customer_id = new_id("cus")
_new_event_id = new_id("evt")
# What a customer made by an insert has in the columns the file does not set (for its event's payload): constants, and
# callables (a new dict for `metadata`) called only for the columns a row lacks.
_DEFAULTS = {column.key: column.default.arg for column in Customer.__table__.columns if column.default is not None}
_CONSTANT_DEFAULTS = {name: value for name, value in _DEFAULTS.items() if not callable(value)}
_MADE_DEFAULTS = {name: value for name, value in _DEFAULTS.items() if callable(value)}


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


class _Valid(NamedTuple):
    """A row that passed the check, as the writing pass needs it."""

    line: int
    columns: dict[str, str]  # customer columns, normalised (only the columns the file has)
    price: str  # "" for no subscription
    quantity: int
    trial_end: str | None  # ISO 8601 (JSON has no datetimes)


@dataclass
class _Check:
    spool: IO[str]  # the valid rows, a JSON list of _Valid per line, BATCH_SIZE rows a line
    rows: int = 0
    valid: int = 0
    problems: list[Problem] = field(default_factory=list)
    batch: list[_Valid] = field(default_factory=list)

    def keep(self, row: _Valid) -> None:
        self.valid += 1
        self.batch.append(row)
        if len(self.batch) == BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.spool.write(json.dumps(self.batch, separators=(",", ":")) + "\n")
            self.batch = []

    def batches(self) -> Iterator[list[_Valid]]:
        self.spool.seek(0)
        for text in self.spool:
            yield [_Valid(*values) for values in json.loads(text)]


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
    """Check the file (opened once by `open_file`), then import it; see the module's description."""
    report = progress or (lambda _phase, _done, _total: None)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        check = _Check(spool)
        try:
            _check(check, database, merchant_id, open_file, clock, report)
        except FileProblem as problem:
            return ImportResult(rows=0, imported=False, problems=tuple(problem.problems))
        problems = tuple(sorted(check.problems, key=lambda problem: problem.line))
        if problems and not skip_invalid:
            return ImportResult(rows=check.rows, imported=False, problems=problems)
        totals = {"created": 0, "updated": 0, "unchanged": 0, "subscriptions_started": 0}
        done = 0
        for batch in check.batches():
            try:
                counts = _write_batch(database, merchant_id, batch, gateway, actor, clock)
            except IntegrityError:  # an email of the batch was taken meanwhile (API, dashboard): it is an update now
                counts = _write_batch(database, merchant_id, batch, gateway, actor, clock)
            for name, count in counts.items():
                totals[name] += count
            done += len(batch)
            report("importing", done, check.valid)
    return ImportResult(rows=check.rows, imported=True, skipped=check.rows - check.valid, problems=problems, **totals)


def _check(
    check: _Check,
    database: Database,
    merchant_id: str,
    open_file: Callable[[], BinaryIO],
    clock: Clock,
    report: Progress,
) -> None:
    first_line_of: dict[bytes, int] = {}
    prices: dict[str, bool] = {}
    today = clock().date()
    with open_file() as stream, database.transaction() as session:
        _header, rows = open_rows(stream)
        for row in rows:
            check.rows += 1
            row_problems, columns = _row_problems(row, first_line_of)
            if price_id := row.values.get("price", ""):
                if price_id not in prices:
                    prices[price_id] = _is_choosable(session, merchant_id, price_id)
                if not prices[price_id]:
                    reason = "Unknown price: use the ID (price_…) of one of your active prices, from the Products page."
                    row_problems.append(Problem(row.line, "price", reason))
            subscription, quantity, trial_end = subscription_problems(row, today, MAX_TRIAL_DAYS, MAX_QUANTITY)
            row_problems += subscription
            if row_problems:
                check.problems += row_problems
            else:
                check.keep(_Valid(row.line, columns, price_id, quantity, trial_end.isoformat() if trial_end else None))
            if check.rows % BATCH_SIZE == 0:
                report("checking", check.rows, 0)
    check.flush()
    report("checking", check.rows, check.rows)


def _row_problems(row: Row, first_line_of: dict[bytes, int]) -> tuple[list[Problem], dict[str, str]]:
    """What is wrong with the row's customer columns, and their values as the customer's columns."""
    problems: list[Problem] = []
    if "" in row.values:
        problems.append(Problem(row.line, "", "The line has more cells than the header has columns."))
    try:
        changes = customer_changes(_customer_input(row))
    except ValidationFailed as failed:
        problems += [Problem(row.line, _column(name), message) for name, message in failed.field_errors.items()]
        return problems, {}
    key = hashlib.blake2b(str(changes["email"]).encode(), digest_size=12).digest()
    if (first := first_line_of.setdefault(key, row.line)) != row.line:
        problems.append(Problem(row.line, "email", f"Duplicate email: line {first} has it already."))
    return problems, _columns(changes)


def _columns(changes: dict[str, object]) -> dict[str, str]:
    """`customer_changes`' values as customer columns (`address` as `address_line1`, …)."""
    columns = {name: cast(str, changes[name]) for name in ("email", "name", "phone", "locale") if name in changes}
    if (address := changes.get("address")) is not None:
        columns.update(address_columns("address", cast(Address, address)))
    return columns


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


def _write_batch(
    database: Database, merchant_id: str, batch: list[_Valid], gateway: PaymentGateway, actor: Actor, clock: Clock
) -> dict[str, int]:
    now = clock()
    counts = {"created": 0, "updated": 0, "unchanged": 0, "subscriptions_started": 0}
    customer_of_line: dict[int, str] = {}
    with database.transaction() as session:
        existing = {
            row.email: row
            for row in session.execute(
                select(Customer.__table__).where(
                    Customer.merchant_id == merchant_id,
                    Customer.email.in_([valid.columns["email"] for valid in batch]),
                    Customer.deleted_at.is_(None),
                )
            )
        }
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for valid in batch:
            columns = valid.columns
            current = existing.get(columns["email"])
            if current is None:
                values = {"id": _new_customer_id(), "merchant_id": merchant_id, "created_at": now, **columns}
                inserts.append(values)
                customer_of_line[valid.line] = str(values["id"])
                created = _customer_object(values)
                events.append(_event(merchant_id, EventType.CUSTOMER_CREATED, created, None, actor, now))
                continue
            customer_of_line[valid.line] = current.id
            changed = {name: value for name, value in columns.items() if getattr(current, name) != value}
            if not changed:
                counts["unchanged"] += 1
                continue
            before = _customer_object(current._asdict())
            updates.append({"id": current.id, **changed})
            after = _customer_object({**current._asdict(), **changed})
            events.append(_event(merchant_id, EventType.CUSTOMER_UPDATED, after, before, actor, now))
        # Core inserts of the tables (executemany): the ORM's bulk insert costs as much again in Python per row.
        if inserts:
            session.execute(insert(Customer.__table__), inserts)
        if updates:
            session.execute(update(Customer), updates)
        if events:
            session.execute(insert(Event.__table__), events)
        counts["created"], counts["updated"] = len(inserts), len(updates)
        wanted = [(valid, customer_of_line[valid.line]) for valid in batch if valid.price]
        having = _live_prices(session, [customer_id for _valid, customer_id in wanted])
    for valid, customer_id in wanted:
        if (customer_id, valid.price) in having:
            continue  # imported before: no second identical subscription
        details = SubscriptionInput(
            customer_id=customer_id,
            items=(SubscriptionItemInput(price_id=valid.price, quantity=valid.quantity),),
            trial_end=datetime.fromisoformat(valid.trial_end) if valid.trial_end else None,
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
        having.add((customer_id, valid.price))
        counts["subscriptions_started"] += 1
    return counts


def _customer_object(values: dict[str, object]) -> CustomerObject:
    merged = _CONSTANT_DEFAULTS | {name: make({}) for name, make in _MADE_DEFAULTS.items() if name not in values}
    merged.update(values)
    merged["metadata_"] = merged.pop("metadata")  # the model's attribute for the column
    # A plain namespace has the attributes `from_row` reads, without building an ORM object per row.
    return CustomerObject.from_row(cast(Customer, SimpleNamespace(**merged)), default_payment_method=None)


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
