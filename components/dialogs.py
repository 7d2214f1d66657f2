"""Small shared dashboard pieces: section headings, copying to the clipboard, confirmations, once-only secrets."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui


def heading(text: str, level: int = 2) -> ui.label:
    return (
        ui.label(text)
        .classes("text-h6" if level == 2 else "text-subtitle1 text-weight-medium")
        .props(f'role="heading" aria-level="{level}"')
    )


def copy_text(text: str, message: str) -> None:
    """Put `text` on the clipboard and say so."""
    ui.clipboard.write(text)
    ui.notify(message, type="positive")


def confirm(title: str, message: str, action: str, on_confirm: Callable[[], None]) -> None:
    """A confirmation dialog for a destructive action; Cancel is the default focus."""
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-md"):
        dialog.on("hide", dialog.delete)
        heading(title)
        ui.label(message).classes("text-body2")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps autofocus")

            def confirmed() -> None:
                dialog.close()
                on_confirm()

            ui.button(action, on_click=confirmed).props("unelevated no-caps color=negative")
    dialog.open()


def show_secret_once(secret: str, *, title: str, label: str, explanation: str) -> None:
    """A secret shown this one time, read-only with a copy button; it cannot be shown again."""
    with ui.dialog().props("persistent") as dialog, ui.card().classes("w-full max-w-lg"):
        dialog.on("hide", dialog.delete)
        heading(title)
        ui.label(explanation).classes("text-body2")
        with ui.row().classes("w-full items-center no-wrap gap-2"):
            ui.input(label, value=secret).props("outlined dense readonly").classes("w-full font-mono")
            ui.button(icon="content_copy", on_click=lambda: copy_text(secret, "Copied to clipboard")).props(
                f'flat round aria-label="Copy {label.lower()}"'
            )
        with ui.row().classes("w-full justify-end"):
            # Deleting (not just closing) takes the secret out of the page at once.
            ui.button("Done", on_click=dialog.delete).props("unelevated no-caps")
    dialog.open()
