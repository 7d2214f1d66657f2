"""The pieces of the Customers page's Import dialog: the preview of a file's first rows and the problems found."""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from app.customer_csv import COLUMNS, Header, Problem, Row

MAX_PROBLEMS_SHOWN = 200


def import_help() -> None:
    ui.label(
        "A CSV file (UTF-8, comma or semicolon) with a header line. Columns: email (required), name, phone, locale, "
        "address_line1, address_line2, address_city, address_postal_code, address_state, address_country, and "
        "price (a price_… ID from the Products page) with quantity and trial_end (YYYY-MM-DD) to start a "
        "subscription. A customer whose email you have already is updated; importing the same file twice changes "
        "nothing. Up to 2 MB here (about 20,000 rows); larger files with python -m app import-customers."
    ).classes("text-body2 text-grey-8")


def preview_table(header: Header, rows: Sequence[Row]) -> None:
    """The detected columns and the first rows as they were read."""
    separator = "semicolons" if header.delimiter == ";" else "commas"
    ui.label(f"Detected {len(header.columns)} columns, separated by {separator}: {', '.join(header.columns)}.").classes(
        "text-body2"
    )
    region = (
        ui.element("div").classes("w-full overflow-auto").props('role="region" aria-label="First rows" tabindex="0"')
    )
    with region, ui.element("q-markup-table").props("flat bordered dense").classes("w-full"):
        with ui.element("thead"), ui.element("tr"):
            for title in ("Line", *header.columns):
                with ui.element("th").classes("text-left"):
                    ui.label(title)
        with ui.element("tbody"):
            for row in rows:
                with ui.element("tr"):
                    for value in (str(row.line), *(row.values.get(column, "") for column in header.columns)):
                        with ui.element("td").classes("text-left"):
                            ui.label(value)
    if not rows:
        ui.label("The file has a header but no rows.").classes("text-body2 text-negative")


def problems_table(problems: Sequence[Problem]) -> None:
    """Every bad line with its column and reason (the first 200 here)."""
    with (
        ui.element("div")
        .classes("w-full overflow-auto")
        .style("max-height: 16rem")
        .props('role="region" aria-label="Problems" tabindex="0"'),
        ui.element("q-markup-table").props("flat bordered dense wrap-cells").classes("w-full"),
    ):
        with ui.element("thead"), ui.element("tr"):
            for title in ("Line", "Column", "Problem"):
                with ui.element("th").classes("text-left"):
                    ui.label(title)
        with ui.element("tbody"):
            for problem in problems[:MAX_PROBLEMS_SHOWN]:
                with ui.element("tr"):
                    for value in (str(problem.line), problem.column or "—", problem.reason):
                        with ui.element("td").classes("text-left"):
                            ui.label(value)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        ui.label(f"… and {len(problems) - MAX_PROBLEMS_SHOWN:,} more.").classes("text-body2")


__all__ = ["COLUMNS", "import_help", "preview_table", "problems_table"]
