"""Small shared dashboard pieces: section headings, copying to the clipboard, confirmations, once-only secrets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

Handler = Callable[[], Awaitable[None] | None]  # a button's action: NiceGUI awaits it when it is async


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


def confirm(title: str, message: str, action: str, on_confirm: Handler) -> None:
    """A confirmation dialog for a destructive action."""
    confirm_dialog(title, message, actions=((action, on_confirm, "negative"),))


def confirm_dialog(
    title: str, message: str, *, actions: tuple[tuple[str, Handler, str], ...], cancel: str = "Cancel"
) -> ui.dialog:
    """An opened dialog with the message and a button per action (label, handler, Quasar colour or "" for primary).

    Choosing an action closes the dialog, then runs the handler (which may be async). The safe choice, `cancel`,
    has the focus.
    """
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-lg gap-3"):
        dialog.on("hide", dialog.delete)
        heading(title)
        ui.label(message).classes("text-body1")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(cancel, on_click=dialog.close).props("flat no-caps autofocus")
            for label, handler, color in actions:
                ui.button(label, on_click=_closing(dialog, handler)).props(
                    f"unelevated no-caps color={color or 'primary'}"
                )
    dialog.open()
    return dialog


def _closing(dialog: ui.dialog, handler: Handler) -> Handler:
    def close_then_handle() -> Awaitable[None] | None:
        dialog.close()
        return handler()  # NiceGUI awaits what a handler returns

    return close_then_handle


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
