"""What every portal section shares: colours, the translator, section frames, dialogs and guarded actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

from nicegui import Client, context, run, ui

from app.colors import LIGHT_TEXT, readable_color_on, readable_text_on
from app.errors import DomainError, Forbidden, NotFound, Unavailable, ValidationFailed
from app.validation import HEX_COLOR
from app.views import PortalSettingsView, PortalView
from components.dialogs import titled_dialog
from components.forms import FieldGroup
from components.portal.actions import PortalActions
from components.portal.text import PortalText
from components.presets import preset

T = TypeVar("T")
NotifyKind = Literal["positive", "negative", "warning", "info"]
DEFAULT_BRAND = "#635bff"
DEFAULT_ACCENT = "#0a2540"


def _safe_color(value: str, fallback: str) -> str:
    """Colours reach a style attribute, so only `#rrggbb` passes (the settings view promises it; we re-check)."""
    return value if HEX_COLOR.fullmatch(value) else fallback


@dataclass(frozen=True, slots=True)
class PortalTheme:
    """Brand colour for buttons, links and focus; accent colour for the business panel; readable text on both.

    `brand_text` is the brand colour where it is text on white (links, outlined buttons, the focus ring): the brand
    itself when readable (4.5:1), else a darker shade of it. Filled buttons keep the brand colour itself.
    """

    brand: str
    on_brand: str
    brand_text: str
    accent: str
    on_accent: str

    @classmethod
    def of(cls, settings: PortalSettingsView) -> PortalTheme:
        return cls.of_colors(settings.brand_color, settings.accent_color)

    @classmethod
    def of_colors(cls, brand_color: str, accent_color: str) -> PortalTheme:
        brand = _safe_color(brand_color, DEFAULT_BRAND)
        accent = _safe_color(accent_color, DEFAULT_ACCENT)
        return cls(
            brand=brand,
            on_brand=readable_text_on(brand),
            brand_text=readable_color_on(brand),
            accent=accent,
            on_accent=readable_text_on(accent),
        )

    @property
    def scope_style(self) -> str:
        """Quasar colours its `primary` elements from `--q-primary`, filled brand buttons (`color=brand`) use
        `--brand`; set here, they apply inside the portal (or its dialog) only."""
        return f"--q-primary: {self.brand_text}; --brand: {self.brand}"

    @property
    def text_color_prop(self) -> str:
        """Quasar's text-color for filled brand buttons: white or black, by contrast with the brand colour."""
        return "white" if self.on_brand == LIGHT_TEXT else "black"


class Portal:
    """One rendered portal: the view being shown, its actions and the shared ways to act and report."""

    def __init__(self, view: PortalView, actions: PortalActions, on_change: Callable[[], None]) -> None:
        self.view = view
        self.actions = actions
        self.text = PortalText(view.locale, view.time_zone)
        self.theme = PortalTheme.of(view.settings)
        self._on_change = on_change
        self._client = context.client

    @property
    def client(self) -> Client:
        """The page's client, which outlives the dialog or section an action started in."""
        return self._client

    def notify(self, message: str, kind: NotifyKind = "positive") -> None:
        """Tell the customer how an action went; works after the dialog that started it was closed and removed."""
        with self._client:
            ui.notify(message, type=kind, multi_line=len(message) > 60)

    def changed(self) -> None:
        """Something was saved: reload the customer's data and re-render."""
        self._on_change()

    def show_field_errors(self, form: FieldGroup, errors: Mapping[str, str]) -> None:
        """Field errors inline, in the customer's language; an error without a field of its own is notified."""
        form.show_errors({name: self.text(message) for name, message in errors.items()})
        for name, message in errors.items():
            if name not in form.fields:
                self.notify(self.text(message), "warning")

    def primary_button(self, label: str, on_click: Callable[..., object] | None = None) -> ui.button:
        return _PRIMARY_BUTTONS[self.theme.text_color_prop](label, on_click=on_click)

    @staticmethod
    def secondary_button(label: str, on_click: Callable[..., object] | None = None) -> ui.button:
        return SecondaryButton(label, on_click=on_click)

    @contextmanager
    def dialog(self, title: str) -> Iterator[ui.dialog]:
        """A titled dialog in the portal's colours, opened when the block ends and removed once closed."""
        with titled_dialog(title, card_classes="w-full max-w-lg q-pa-lg gap-3", style=self.theme.scope_style) as dialog:
            yield dialog

    async def act(
        self,
        work: Callable[[], T],
        *,
        buttons: tuple[ui.button, ...] = (),
        on_invalid: Callable[[Mapping[str, str]], None] | None = None,
    ) -> tuple[bool, T | None]:
        """Run one action off the event loop with its buttons disabled, so a double click cannot act twice.

        Returns (succeeded, result). Domain errors become messages: field errors go to `on_invalid` when given,
        refusals (turned off, preview, declined) are notified in the customer's words.
        """
        if any(not button.enabled for button in buttons):
            return False, None
        for button in buttons:
            button.disable()
        try:
            return True, await run.io_bound(work)
        except ValidationFailed as failed:
            if on_invalid is not None:
                on_invalid(failed.field_errors)
                self.notify(self.text("Check the highlighted fields."), "warning")
            else:
                messages = (self.text(message) for message in failed.field_errors.values())
                self.notify(" ".join(messages), "negative")
        except NotFound:
            self.notify(self.text("This item is no longer available."), "warning")
            self.changed()
        except Forbidden as refused:
            self.notify(self.text(str(refused)), "info")
        except Unavailable:
            self.notify(
                self.text("We could not reach our records just now, so nothing was changed. Please try again."),
                "negative",
            )
        except DomainError as error:
            self.notify(self.text(str(error)), "negative")
        finally:
            for button in buttons:
                if not button.is_deleted:
                    button.enable()
        return False, None


# The portal's recurring elements, with their looks built in (see `preset`).
_PRIMARY_BUTTONS = {
    text_color: preset(ui.button, props=f"unelevated no-caps color=brand text-color={text_color}")
    for text_color in ("white", "black")
}
SecondaryButton = preset(ui.button, props="outline no-caps color=primary")
TextButton = preset(ui.button, props="flat dense no-caps color=primary")
"""A quiet action inside a row: "View", "Make default"."""
_Section = preset(ui.element, classes="w-full column gap-3 q-py-lg portal-section")
_SectionHeading = preset(ui.label, classes="text-h6 text-weight-medium", props="role=heading aria-level=2")


@contextmanager
def section(title: str, *, marker: str) -> Iterator[ui.element]:
    """A region labelled by its heading, as assistive technology and the tests find it."""
    with _Section("section").mark(marker) as region:
        region.props["aria-label"] = title
        _SectionHeading(title)
        yield region
