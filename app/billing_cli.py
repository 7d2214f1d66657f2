"""Command line for time-driven work: `python -m app billing run [--now ISO]`, `webhooks deliver`, `emails send`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from app.clock import system_clock
from app.config import Settings, load_settings
from app.db import Database, ensure_migrated
from app.gateways import build_gateway
from app.services.billing import advance
from app.services.emails import send_due
from app.services.webhooks import deliver_due, dispatch_events


def aware_datetime(text: str) -> datetime:
    """An ISO 8601 moment with its offset (`2027-01-01T00:00:00Z`), as UTC; argparse shows the error otherwise."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"add a UTC offset, like {text}Z or {text}+01:00")
    return moment.astimezone(UTC)


def _open_database(settings: Settings) -> Database:
    database = Database(settings.effective_database_url)
    ensure_migrated(database.engine)
    return database


def _billing_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = _open_database(settings)
    now: datetime = args.now or system_clock()
    result = advance(database=database, now=now, gateway=build_gateway(settings))
    database.dispose()
    if result.skipped:
        print("Another billing run is in progress; nothing was done. Try again in a minute.", file=sys.stderr)
        return 1
    print(
        f"Billing clock advanced to {now.isoformat()}: {result.invoices_created} invoices created, "
        f"{result.payments_succeeded} payments succeeded, {result.payments_failed} failed, "
        f"{result.subscriptions_canceled} subscriptions ended."
    )
    return 0


def _webhooks_deliver(_args: argparse.Namespace) -> int:
    database = _open_database(load_settings())
    queued = dispatch_events(database=database, now=system_clock())
    attempts = deliver_due(
        database=database, clock=system_clock, allow_loopback=load_settings().allow_insecure_webhooks
    )
    database.dispose()
    print(f"{queued} new events queued, {attempts} delivery attempts made.")
    return 0


def _emails_send(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = _open_database(settings)
    now: datetime | None = args.now
    result = send_due(database=database, settings=settings, clock=(lambda: now) if now else system_clock, limit=10_000)
    database.dispose()
    if not settings.smtp_url:
        print(f"SMTP_URL is not set: {result.kept} mails written and kept in the local outbox (the Emails page).")
    else:
        print(f"{result.sent} mails sent, {result.retrying} to retry later, {result.failed} given up.")
    return 0


def add_commands(commands: Any) -> None:
    """Add the `billing` and `webhooks` commands to the CLI's subparsers."""
    billing = commands.add_parser("billing", help="the billing clock").add_subparsers(dest="billing", required=True)
    run = billing.add_parser("run", help="process renewals, retries and cancellations due up to now")
    run.add_argument(
        "--now", type=aware_datetime, help="move the clock to this moment instead, e.g. 2027-01-01T00:00:00Z"
    )
    run.set_defaults(handler=_billing_run)
    webhooks = commands.add_parser("webhooks", help="webhook delivery").add_subparsers(dest="webhooks", required=True)
    webhooks.add_parser("deliver", help="queue new events and send the deliveries that are due").set_defaults(
        handler=_webhooks_deliver
    )
    emails = commands.add_parser("emails", help="the mail queue").add_subparsers(dest="emails", required=True)
    send = emails.add_parser("send", help="send the queued mails that are due now (SMTP_URL)")
    send.add_argument("--now", type=aware_datetime, help="as if it were this moment (retries due by then go too)")
    send.set_defaults(handler=_emails_send)
