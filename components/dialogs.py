"""Small shared dashboard pieces: section headings, copying to the clipboard, confirmations, once-only secrets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

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


# Tab from the last control goes to the first, Shift+Tab from the first (or from the dialog itself, which has the
# focus right after opening) to the last: the focus never leaves the dialog for the browser's toolbar or the page.
_WRAP_TAB = """(event) => {
  if (event.key !== 'Tab') return;
  const controls = [...event.currentTarget.querySelectorAll(
    'button, [href], input, textarea, select, [tabindex]:not([tabindex="-1"])'
  )].filter(element => !element.disabled && element.offsetParent !== null);
  if (!controls.length) return;
  const position = controls.indexOf(document.activeElement);
  const target = event.shiftKey
    ? (position <= 0 ? controls[controls.length - 1] : null)
    : (position === controls.length - 1 ? controls[0] : null);
  if (target) { event.preventDefault(); target.focus(); }
}"""


@contextmanager
def titled_dialog(
    title: str, *, card_classes: str = "w-full max-w-lg gap-3", style: str = "", persistent: bool = False
) -> Iterator[ui.dialog]:
    """A dialog named by its heading for assistive technology, opened when the `with` block ends.

    While it is open, the keyboard focus stays inside it (Tab wraps around); when it closes, Quasar gives the focus
    back to what had it before (the button that opened it). It is deleted only after it has closed: deleting it
    while closing would skip that return of the focus.
    """
    with ui.dialog() as dialog, ui.card().classes(card_classes).style(style):
        if persistent:
            dialog.props("persistent")
        dialog.on("hide", dialog.delete)
        dialog.on("keydown", js_handler=_WRAP_TAB)
        dialog.props["aria-labelledby"] = heading(title).html_id
        yield dialog
    dialog.open()


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
    with titled_dialog(title) as dialog:
        ui.label(message).classes("text-body1")
        with ui.row().classes("w-full justify-end gap-2 q-mt-sm"):
            ui.button(cancel, on_click=dialog.close).props("flat no-caps autofocus")
            for label, handler, color in actions:
                ui.button(label, on_click=_closing(dialog, handler)).props(
                    f"unelevated no-caps color={color or 'primary'}"
                )
    return dialog


def _closing(dialog: ui.dialog, handler: Handler) -> Handler:
    def close_then_handle() -> Awaitable[None] | None:
        dialog.close()
        return handler()  # NiceGUI awaits what a handler returns

    return close_then_handle


def show_secret_once(secret: str, *, title: str, label: str, explanation: str) -> None:
    """A secret shown this one time, read-only with a copy button; it cannot be shown again."""
    with titled_dialog(title, persistent=True) as dialog:
        ui.label(explanation).classes("text-body2")
        with ui.row().classes("w-full items-center no-wrap gap-2"):
            ui.input(label, value=secret).props("outlined dense readonly").classes("w-full font-mono")
            ui.button(icon="content_copy", on_click=lambda: copy_text(secret, "Copied to clipboard")).props(
                f'flat round aria-label="Copy {label.lower()}"'
            )
        with ui.row().classes("w-full justify-end"):
            # Deleting (not just closing) takes the secret out of the page at once.
            ui.button("Done", on_click=dialog.delete).props("unelevated no-caps")
