"""Pieces of the merchant's draft-and-preview settings pages: layout, toolbar, dialogs and the leave-page guard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

from app.validation import HEX_COLOR
from components.dialogs import Handler, confirm_dialog, copy_text

PREVIEW_MARKER = "portal-preview"
# On wide screens the toolbar stays in view below the fixed one-line header (65 px), and the preview below the
# toolbar, while the form scrolls; the preview scrolls on its own when taller than the window.
_STICKY_TOOLBAR = "lg:sticky lg:top-[65px] z-10 bg-white"
_STICKY_PREVIEW = "lg:sticky lg:top-[130px] lg:self-start lg:max-h-[calc(100vh-140px)] lg:overflow-y-auto"
_NARROW_HIDDEN = "max-lg:hidden"


@contextmanager
def settings_layout() -> Iterator[tuple[ui.element, ui.element]]:
    """Form and preview side by side on wide screens; on narrow ones a Form / Preview switch shows one at a time."""
    switch = (
        ui.toggle({"form": "Form", "preview": "Preview"}, value="form")
        .props('no-caps spread unelevated toggle-color=primary aria-label="Show"')
        .classes("lg:hidden w-full q-mb-md border border-gray-300")
    )
    with ui.element("div").classes(
        "w-full grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)] items-start"
    ):
        form_column = ui.column().classes("w-full min-w-0 gap-4")
        preview_column = ui.column().classes(f"w-full min-w-0 gap-2 {_STICKY_PREVIEW} {_NARROW_HIDDEN}")

    def show(shown: str) -> None:
        form_column.classes(**{"add" if shown == "preview" else "remove": _NARROW_HIDDEN})
        preview_column.classes(**{"add" if shown == "form" else "remove": _NARROW_HIDDEN})

    switch.on_value_change(lambda event: show(event.value))
    yield form_column, preview_column


@contextmanager
def portal_preview_region() -> Iterator[ui.element]:
    """The landmark the live preview renders into (tests and assistive technology find it by its label)."""
    with (
        ui.element("section")
        .props('aria-label="Portal preview"')
        .classes("w-full overflow-hidden rounded-borders border border-gray-300 bg-white")
        .mark(PREVIEW_MARKER) as region
    ):
        yield region


@contextmanager
def settings_card(title: str, description: str = "") -> Iterator[ui.card]:
    """One titled section of a settings form."""
    with ui.card().props("flat bordered").classes("w-full gap-3") as card:
        heading = ui.label(title).classes("text-subtitle1 text-weight-medium")
        heading.props["role"] = "heading"
        heading.props["aria-level"] = "2"
        if description:
            ui.label(description).classes("text-body2 text-grey-8 -mt-2")
        yield card


class SettingsToolbar:
    """ "Unsaved changes", Reset, (Preview) and Save for a draft; `show()` keeps them in step with the draft."""

    def __init__(
        self,
        *,
        on_reset: Callable[[], None],
        on_save: Handler,
        on_preview: Callable[[], None] | None = None,
    ) -> None:
        with ui.row().classes(f"w-full items-center justify-end gap-2 q-py-sm {_STICKY_TOOLBAR}"):
            self.indicator = ui.badge("Unsaved changes", color="orange-2", text_color="black").props(
                'rounded role="status"'
            )
            self.reset = ui.button("Reset", on_click=on_reset).props("outline no-caps")
            if on_preview is not None:
                ui.button("Preview", icon="open_in_new", on_click=on_preview).props(
                    'outline no-caps aria-label="Preview in a new tab"'
                )
            self.save = ui.button("Save", on_click=on_save).props("unelevated no-caps")
        self._guard = _LeavePageGuard()

    def show(self, *, dirty: bool, valid: bool) -> None:
        self.indicator.set_visibility(dirty)
        self.reset.set_enabled(dirty)
        self.save.set_enabled(dirty and valid)
        self._guard.set(dirty)


class _LeavePageGuard:
    """Asks the browser to confirm leaving the page while there are unsaved changes."""

    def __init__(self) -> None:
        self.active = False

    def set(self, active: bool) -> None:
        if active == self.active:
            return
        self.active = active
        # The one line of JavaScript: register or clear the browser's own "Leave site?" prompt (no custom text).
        handler = "(event) => { event.preventDefault(); event.returnValue = ''; }" if active else "null"
        ui.run_javascript(f"window.onbeforeunload = {handler};")


def conflict_dialog(*, what: str, on_reload: Handler, on_overwrite: Handler) -> ui.dialog:
    """Saved elsewhere since this page loaded: reload theirs or overwrite with ours, never silently lose either."""
    return confirm_dialog(
        f"The {what} were saved elsewhere",
        f"Someone (maybe you, in another tab) saved the {what} after you opened this page. Reload to see the saved "
        "version and discard your changes, or overwrite it with your changes.",
        actions=(("Reload saved settings", on_reload, "grey-8"), ("Overwrite with my changes", on_overwrite, "")),
        cancel="Keep editing",
    )


def reset_dialog(on_discard: Callable[[], None]) -> ui.dialog:
    return confirm_dialog(
        "Reset unsaved changes?",
        "Your changes since the last save will be discarded and the saved settings restored.",
        actions=(("Discard changes", on_discard, "negative"),),
        cancel="Keep editing",
    )


def color_swatch(color: str, label: str) -> None:
    """A dot of `color` (only a valid `#rrggbb` reaches the style) with its name and value."""
    with ui.row().classes("items-center gap-1 no-wrap"):
        dot = ui.element("div").classes("w-5 h-5 rounded-full border border-gray-300")
        if HEX_COLOR.fullmatch(color):
            dot.style(f"background-color: {color}")
        ui.label(f"{label} {color}").classes("text-caption")


def copyable_address(label: str, address: str, *, copy_label: str) -> ui.input:
    """A read-only address with a copy button (for the merchant to paste into their website)."""
    field = ui.input(label, value=address).props("outlined dense readonly").classes("w-full")
    with field.add_slot("append"):
        ui.button(icon="content_copy", on_click=lambda: copy_text(address, "Copied to the clipboard")).props(
            f'flat round dense aria-label="{copy_label}"'
        )
    return field
