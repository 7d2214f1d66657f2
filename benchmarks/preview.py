"""Server CPU time for one settings change to re-render the live preview (NiceGUI's simulated user, no browser).

The baseline is one render of a small fixed component on the same page, timed in turn with each change: what
any re-render costs on this machine at this moment, whatever the portal looks like.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
from pathlib import Path

from nicegui import app, ui
from nicegui.storage import Storage
from nicegui.testing.user_simulation import user_simulation

from app.db import Database, migrate
from app.models import utcnow
from app.services.demo_data import DEMO_OWNER_EMAIL, load_demo_data
from benchmarks.timing import cpu_ms, percentile

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = secrets.token_urlsafe(16)  # a throwaway database: any password will do
CHANGES = 200


def _fixed_component() -> None:
    """Six elements that never change with the portal: a card with an icon, two labels and a button in a row."""
    with ui.card(), ui.row():
        ui.icon("receipt")
        ui.label("Invoice BEN-0000001")
        ui.label("$29.00")
        ui.button("Pay")


async def _measure(samples: int, folder: str) -> tuple[list[float], list[float]]:
    # As NiceGUI's pytest plugin does: a private storage folder, so resetting globals touches no page context.
    Storage.path = Path(folder) / "storage"
    app.storage = Storage()
    async with user_simulation(main_file=ROOT / "main.py") as user:
        await user.open("/login?redirect_to=/settings/portal")
        user.find("Email").type(DEMO_OWNER_EMAIL)
        user.find(kind=ui.input, content="Password").type(PASSWORD)
        user.find(kind=ui.button, content="Sign in").click()
        await user.should_see(kind=ui.switch, content="Invoice history", retries=100)
        # A mix of what merchants do: flip a section on and off, and type in the business information.
        (invoices,) = user.find(kind=ui.switch, content="Invoice history").elements
        (shipping,) = user.find(kind=ui.switch, content="Shipping information").elements
        (headline,) = user.find(kind=ui.input, content="Headline").elements
        changes = (
            lambda: invoices.set_value(not invoices.value),
            lambda: shipping.set_value(not shipping.value),
            lambda: headline.set_value(f"{headline.value}x"[-100:]),
        )
        durations, baseline = [], []
        with user as client:
            holder = ui.element()

            def render_fixed_component() -> None:
                holder.clear()
                with holder:
                    _fixed_component()

            for index in range(samples):
                baseline.append(cpu_ms(render_fixed_component))
                before = set(client.elements)
                # The change's handler updates the draft and re-renders the preview.
                durations.append(cpu_ms(changes[index % len(changes)]))
                if set(client.elements) == before:
                    raise AssertionError("the change did not re-render the preview within its handler")
        return durations, baseline


def measure_preview(samples: int = CHANGES) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="portal-preview-bench-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'portal.db'}")
        migrate(database.engine)
        with database.transaction() as session:
            load_demo_data(session=session, password=PASSWORD, now=utcnow())
        database.dispose()
        saved = dict(os.environ)
        os.environ.update(
            DATA_DIR=folder,
            DATABASE_URL=str(database.engine.url),
            SECRET_KEY=secrets.token_urlsafe(48),
            DEMO_DATA="0",
            BILLING_CLOCK_INTERVAL_SECONDS="0",
            # NiceGUI's simulated user is built for pytest and checks this variable to skip page-only clean-up.
            PYTEST_CURRENT_TEST="benchmarks/preview.py",
        )
        try:
            durations, baseline = asyncio.run(_measure(samples, folder))
        finally:
            os.environ.clear()
            os.environ.update(saved)
    durations, baseline = durations[10:], baseline[10:]  # warm-up
    return {
        "changes": len(durations),
        "p50_ms": statistics.median(durations),
        "p95_ms": percentile(durations, 0.95),
        "baseline_p50_ms": statistics.median(baseline),
        "baseline_p95_ms": percentile(baseline, 0.95),
    }
