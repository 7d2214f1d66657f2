"""Background work inside the app: the billing clock every BILLING_CLOCK_INTERVAL_SECONDS, webhook delivery, and
the mail queue every EMAIL_POLL_SECONDS (a few seconds, whatever the billing clock's interval).

All run in worker threads so the UI never waits on them, stop at shutdown, and are safe with several processes: the
billing clock takes a database lease, webhook deliveries and mails are claimed one by one. A billing interval of 0
disables the clock and webhooks (the tests do; `python -m app billing run` and `python -m app webhooks deliver` still
work); EMAIL_POLL_SECONDS=0 disables the mail sender (`python -m app emails send` still works).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from nicegui import app, background_tasks

from app.context import AppContext
from app.services.billing import advance
from app.services.emails import send_due
from app.services.webhooks import deliver_due, dispatch_events

log = logging.getLogger(__name__)

WEBHOOK_POLL_SECONDS = 5.0


def install(context: AppContext) -> None:
    interval = context.settings.billing_clock_interval_seconds
    email_poll = context.settings.email_poll_seconds
    if interval <= 0 and email_poll <= 0:
        return
    stopping = threading.Event()
    tasks: list[asyncio.Task[None]] = []

    def run_billing() -> None:
        result = advance(database=context.database, now=context.clock(), gateway=context.gateway)
        if result.invoices_created or result.payments_failed or result.subscriptions_canceled:
            log.info("Billing clock: %s", result)

    def run_webhooks() -> None:
        dispatch_events(database=context.database, now=context.clock())
        deliver_due(
            database=context.database,
            clock=context.clock,
            should_stop=stopping.is_set,
            allow_loopback=context.settings.allow_insecure_webhooks,
        )

    def run_emails() -> None:
        result = send_due(
            database=context.database, settings=context.settings, clock=context.clock, should_stop=stopping.is_set
        )
        if result.retrying or result.failed:  # sent and kept mails show on the Emails page
            log.info("Mail queue: %s", result)

    async def repeat(work: Callable[[], None], every: float, name: str) -> None:
        while not stopping.is_set():
            try:
                await asyncio.to_thread(work)
            except Exception:
                log.exception("%s failed; trying again in %s s", name, every)
            await asyncio.sleep(every)

    def start() -> None:
        if interval > 0:
            tasks.append(background_tasks.create(repeat(run_billing, interval, "Billing clock"), name="billing-clock"))
            tasks.append(
                background_tasks.create(
                    repeat(run_webhooks, min(WEBHOOK_POLL_SECONDS, interval), "Webhook delivery"), name="webhooks"
                )
            )
        if email_poll > 0:
            tasks.append(background_tasks.create(repeat(run_emails, email_poll, "Mail sender"), name="emails"))

    def stop() -> None:
        stopping.set()
        for task in tasks:
            task.cancel()

    app.on_startup(start)
    app.on_shutdown(stop)
