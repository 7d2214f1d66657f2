"""`make soak`: 50 simulated portal customers at once for 60 s; afterwards every write must be in the database.

Each customer works through its own portal link, as the open portal page does (`pages.portal.LiveActions`: every
call re-verifies the link and runs one transaction), and now and then loads its portal page over HTTP from a real
server process on the same database (loopback only). Reads: reload, invoice pages, invoice details, the page.
Writes: billing name, shipping name, cancel / don't cancel. Every write that returns is remembered; afterwards the
database must hold the last value of each, with one event per change. Bounded by time and customer count; any
error (including "database unavailable") fails the run.

    python -m benchmarks.soak [--customers 50] [--seconds 60] [--no-http]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.clock import system_clock
from app.config import load_settings
from app.context import AppContext
from app.db import Database, migrate
from app.gateways import build_gateway
from app.models import Customer, Event, EventSource, Subscription, SubscriptionStatus
from app.services.demo_data import load_demo_data
from app.services.events import Actor
from app.services.portal_links import issue_link
from app.views import Address, BillingDetailsInput, ShippingInput
from benchmarks.http_load import BROWSER_HEADERS, running_server
from benchmarks.timing import percentile
from pages.portal import LiveActions

SECRET_KEY = "soak-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway database's key
PASSWORD = "portal-demo"  # noqa: S105 - the demo login of a throwaway database
RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"
ADDRESS = Address(line1="1 Soak Street", line2="", city="Berlin", postal_code="10115", state="", country="DE")


@dataclass
class SimulatedCustomer:
    """What one simulated customer wrote, to check against the database afterwards."""

    customer_id: str
    subscription_id: str
    url: str
    actions: LiveActions
    name: str = ""
    shipping_name: str = ""
    cancel_pending: bool = False
    name_writes: int = 0
    shipping_writes: int = 0
    cancel_changes: int = 0


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)

    def timed(self, name: str, work: Callable[[], object]) -> bool:
        started = time.perf_counter()
        try:
            work()
        except Exception as error:  # every failure counts; the run fails when there is any
            with self.lock:
                self.errors[f"{name}: {type(error).__name__}: {error}"[:160]] += 1
            return False
        with self.lock:
            self.latencies[name].append((time.perf_counter() - started) * 1000)
        return True


def _prepare(data_dir: Path, customers: int, port: int) -> tuple[AppContext, list[SimulatedCustomer]]:
    settings = load_settings(
        data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'portal.db'}", secret_key=SECRET_KEY, _env_file=None
    )
    database = Database(settings.effective_database_url)
    migrate(database.engine)
    with database.transaction() as session:
        load_demo_data(session=session, password=PASSWORD, now=system_clock())
    context = AppContext(settings=settings, database=database, gateway=build_gateway(settings))
    simulated: list[SimulatedCustomer] = []
    with database.transaction() as session:
        subscriptions = list(session.scalars(select(Subscription).order_by(Subscription.id).limit(customers)))
        for subscription in subscriptions:  # every customer starts active, with nothing pending
            subscription.status, subscription.cancel_at_period_end = SubscriptionStatus.ACTIVE, False
            subscription.canceled_at = subscription.ended_at = None
        rows = [(sub.customer_id, sub.id, sub.merchant_id) for sub in subscriptions]
        for customer_id, subscription_id, merchant_id in rows:
            link = issue_link(
                session=session, settings=settings, merchant_id=merchant_id, customer_id=customer_id, created_by="soak"
            )
            token = link.url.rsplit("/portal/", 1)[1]
            actor = Actor(source=EventSource.PORTAL, ip_address="127.0.0.1", user_agent="soak")
            simulated.append(
                SimulatedCustomer(
                    customer_id=customer_id,
                    subscription_id=subscription_id,
                    url=f"http://127.0.0.1:{port}/portal/{token}",
                    actions=LiveActions(context, token, actor, context.gateway),
                )
            )
    return context, simulated


def _customer_loop(me: SimulatedCustomer, index: int, deadline: float, tally: Tally, http: bool) -> None:
    rng = random.Random(index)
    client = httpx.Client(headers=BROWSER_HEADERS, timeout=30) if http else None
    step = 0
    try:
        while time.monotonic() < deadline:
            step += 1
            choice = rng.random()
            if choice < 0.15:
                name = f"Soak {index} #{step}"
                details = BillingDetailsInput(name=name)
                if tally.timed("write billing name", partial(me.actions.update_billing_details, details)):
                    me.name, me.name_writes = name, me.name_writes + 1
            elif choice < 0.25:
                name = f"Ship {index} #{step}"
                shipping = ShippingInput(name=name, phone="", address=ADDRESS)
                if tally.timed("write shipping", partial(me.actions.update_shipping, shipping)):
                    me.shipping_name, me.shipping_writes = name, me.shipping_writes + 1
            elif choice < 0.35:
                if me.cancel_pending:
                    done = tally.timed("write don't cancel", lambda: me.actions.undo_cancellation(me.subscription_id))
                else:
                    done = tally.timed(
                        "write cancel", lambda: me.actions.cancel_subscription(me.subscription_id, "unused", "")
                    )
                if done:
                    me.cancel_pending, me.cancel_changes = not me.cancel_pending, me.cancel_changes + 1
            elif choice < 0.45 and client is not None:
                tally.timed("read portal page (HTTP)", lambda: client.get(me.url).raise_for_status())
            elif choice < 0.70:
                tally.timed("read reload", me.actions.reload)
            elif choice < 0.85:
                tally.timed("read invoice page", lambda: me.actions.list_invoices(rng.choice([None, "paid"]), 1))
            else:
                tally.timed("read invoice", partial(_open_newest_invoice, me.actions))
            time.sleep(rng.uniform(0.0, 0.02))  # a customer's think time between clicks
    finally:
        if client is not None:
            client.close()


def _open_newest_invoice(actions: LiveActions) -> None:
    page = actions.list_invoices(None, 1)
    if page.invoices:
        actions.get_invoice(page.invoices[0].id)


def _lost_writes(database: Database, simulated: list[SimulatedCustomer]) -> list[str]:
    """Every remembered write must be the stored value, with one event per change."""
    lost: list[str] = []
    with database.transaction() as session:
        for me in simulated:
            customer = session.get_one(Customer, me.customer_id)
            subscription = session.get_one(Subscription, me.subscription_id)
            if me.name_writes and customer.name != me.name:
                lost.append(f"{me.customer_id}: name {customer.name!r} != {me.name!r}")
            if me.shipping_writes and customer.shipping_name != me.shipping_name:
                lost.append(f"{me.customer_id}: shipping name {customer.shipping_name!r} != {me.shipping_name!r}")
            if subscription.cancel_at_period_end != me.cancel_pending:
                lost.append(f"{me.subscription_id}: cancel_at_period_end is {subscription.cancel_at_period_end}")
            updates = session.scalar(
                select(func.count()).where(Event.object_id == me.customer_id, Event.type == "customer.updated")
            )
            if updates != me.name_writes + me.shipping_writes:
                writes = me.name_writes + me.shipping_writes
                lost.append(f"{me.customer_id}: {updates} customer.updated events for {writes} writes")
            changes = session.scalar(
                select(func.count()).where(
                    Event.object_id == me.subscription_id, Event.type == "customer.subscription.updated"
                )
            )
            if changes != me.cancel_changes:
                lost.append(f"{me.subscription_id}: {changes} subscription events for {me.cancel_changes} changes")
    return lost


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(customers: int, seconds: float, http: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        data_dir, port = Path(folder), _free_port()
        context, simulated = _prepare(data_dir, customers, port)
        tally = Tally()
        server = running_server(context.settings.effective_database_url, data_dir, port, SECRET_KEY)
        with server if http else nullcontext():
            deadline = time.monotonic() + seconds
            threads = [
                threading.Thread(target=_customer_loop, args=(me, index, deadline, tally, http))
                for index, me in enumerate(simulated)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        lost = _lost_writes(context.database, simulated)
        context.database.dispose()
    operations = {
        name: {
            "count": len(samples),
            "p50_ms": round(percentile(samples, 0.5), 1),
            "p95_ms": round(percentile(samples, 0.95), 1),
        }
        for name, samples in sorted(tally.latencies.items())
    }
    total = sum(len(samples) for samples in tally.latencies.values())
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": customers,
        "seconds": round(elapsed, 1),
        "http": http,
        "operations": total,
        "operations_per_second": round(total / elapsed, 1),
        "writes": sum(value["count"] for name, value in operations.items() if name.startswith("write")),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors.most_common(10)),
        "lost_writes": len(lost),
        "lost_examples": lost[:10],
        "by_operation": operations,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50, help="simulated customers at once (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they work (default 60)")
    parser.add_argument("--no-http", action="store_true", help="service layer only, no server process")
    args = parser.parse_args(argv)
    if not 1 <= args.customers <= 72 or not 1 <= args.seconds <= 600:
        parser.error("use 1-72 customers (the demo data's) and 1-600 seconds")
    report = run(args.customers, args.seconds, http=not args.no_http)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'operation':<28}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}")
    for name, value in report["by_operation"].items():  # type: ignore[union-attr]
        print(f"{name:<28}{value['count']:>8}{value['p50_ms']:>10}{value['p95_ms']:>10}")
    print(
        f"{report['customers']} customers, {report['seconds']} s: {report['operations']} operations "
        f"({report['operations_per_second']}/s), {report['writes']} writes, {report['errors']} errors, "
        f"{report['lost_writes']} lost writes -> {RESULTS}"
    )
    for line in [*report["error_kinds"], *report["lost_examples"]]:  # type: ignore[misc]
        print("  ", line)
    return 0 if report["errors"] == 0 and report["lost_writes"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
