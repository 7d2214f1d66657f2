"""The Customers page's Import dialog: upload a CSV, preview its first rows, import with a progress bar, the result."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import events, run, ui

from app.customer_csv import FileProblem, sample
from app.services.customer_import import ImportResult, import_customers
from components.dialogs import titled_dialog
from components.import_panel import import_help, preview_table, problems_table
from pages.actors import MERCHANT
from pages.merchant.scaffold import MerchantPage

MAX_IMPORT_BYTES = 2 * 1024 * 1024  # the upload route's body limit (server/request_limits.py)


@dataclass
class _Progress:
    phase: str = ""
    done: int = 0
    total: int = 0


class ImportDialog:
    """One import: the file is kept in memory (at most 2 MB) until the dialog closes."""

    def __init__(self, page: MerchantPage, on_done: Callable[[], None]) -> None:
        self.page = page
        self.on_done = on_done
        self.data = b""
        self.progress = _Progress()

    def open(self) -> None:
        with titled_dialog("Import customers", card_classes="w-full max-w-3xl gap-3") as self.dialog:
            import_help()
            self.upload = (
                ui.upload(label="CSV file", auto_upload=True, max_file_size=MAX_IMPORT_BYTES, on_upload=self.received)
                .props('accept=".csv,text/csv"')
                .classes("hidden")
                .mark("import-upload")
            )
            self.upload.on("rejected", lambda: self.show_message("The file is larger than 2 MB: use the command line."))
            ui.button(
                "Choose CSV file", icon="upload_file", on_click=lambda: self.upload.run_method("pickFiles")
            ).props("outline no-caps")
            self.body = ui.column().classes("w-full gap-3")
            with ui.row().classes("w-full items-center justify-between gap-2"):
                self.skip_invalid = ui.checkbox("Skip invalid rows (import the valid ones and list the others)")
                with ui.row().classes("gap-2"):
                    ui.button("Close", on_click=self.dialog.close).props("flat no-caps")
                    self.start = ui.button("Import", on_click=self.run).props("unelevated no-caps").mark("import-start")
            self.start.disable()

    def show_message(self, message: str) -> None:
        self.body.clear()
        with self.body:
            ui.label(message).classes("text-body1 text-negative").props('role="alert"')

    async def received(self, event: events.UploadEventArguments) -> None:
        self.upload.reset()
        self.data = await event.file.read()
        self.start.disable()
        try:
            header, rows = sample(io.BytesIO(self.data))
        except FileProblem as problem:
            self.body.clear()
            with self.body:
                ui.label(f"{event.file.name} cannot be imported:").classes("text-body1 text-negative")
                problems_table(problem.problems)
            return
        self.body.clear()
        with self.body:
            ui.label(event.file.name).classes("text-subtitle2")
            preview_table(header, rows)
        self.start.set_enabled(bool(rows))

    async def run(self) -> None:
        if not self.data or not self.start.enabled:
            return
        self.start.disable()
        with self.body:
            bar = ui.linear_progress(value=0, show_value=False).props('aria-label="Import progress" instant-feedback')
            status = ui.label("Checking every row…").classes("text-body2").props('aria-live="polite"')
        timer = ui.timer(0.2, lambda: self._show_progress(bar, status))
        page = self.page
        data = self.data
        result: ImportResult = await run.io_bound(
            lambda: import_customers(
                database=page.context.database,
                merchant_id=page.merchant_id,
                open_file=lambda: io.BytesIO(data),
                gateway=page.context.gateway,
                actor=MERCHANT,
                clock=page.context.clock,
                skip_invalid=bool(self.skip_invalid.value),
                progress=self._record,
            )
        )
        timer.cancel()
        bar.set_value(1)
        self._show_result(result, status)

    def _record(self, phase: str, done: int, total: int) -> None:
        """Called from the import's thread; the page's timer shows it."""
        self.progress = _Progress(phase, done, total)

    def _show_progress(self, bar: ui.linear_progress, status: ui.label) -> None:
        progress = self.progress
        if progress.phase == "importing" and progress.total:
            bar.set_value(0.5 + progress.done / progress.total / 2)
            status.set_text(f"Importing… {progress.done:,} of {progress.total:,} rows")
        elif progress.phase == "checking":
            bar.set_value(0.5 if progress.total else 0.25)
            status.set_text(f"Checking every row… {progress.done:,} so far")

    def _show_result(self, result: ImportResult, status: ui.label) -> None:
        if not result.imported:
            status.set_text(
                f"Nothing was imported: {len({p.line for p in result.problems}):,} of {result.rows:,} rows have "
                "problems. Fix them in the file and import it again, or tick Skip invalid rows."
            )
            status.classes("text-negative")
        else:
            status.set_text(
                f"Imported {result.rows - result.skipped:,} of {result.rows:,} rows: {result.created:,} customers "
                f"created, {result.updated:,} updated, {result.unchanged:,} unchanged, "
                f"{result.subscriptions_started:,} subscriptions started, {result.skipped:,} rows skipped."
            )
            ui.notify("Import finished", type="positive")
            self.on_done()
        if result.problems:
            with self.body:
                problems_table(result.problems)
