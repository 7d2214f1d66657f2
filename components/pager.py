"""Newer/Older buttons around a page number, for lists shown newest first."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui


def pager(page: int, *, has_next: bool, on_page: Callable[[int], None]) -> None:
    """Nothing when everything fits on the first page."""
    if page <= 1 and not has_next:
        return
    with ui.row().classes("w-full items-center justify-center gap-4 q-mt-sm"):
        ui.button("Newer", icon="chevron_left", on_click=lambda: on_page(page - 1)).props("flat no-caps").set_enabled(
            page > 1
        )
        ui.label(f"Page {page}").classes("text-caption text-grey-8")
        ui.button("Older", on_click=lambda: on_page(page + 1)).props(
            "flat no-caps icon-right=chevron_right"
        ).set_enabled(has_next)
