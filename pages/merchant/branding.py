"""`/settings/branding`: icon, logo and colours of the customer portal, beside a live preview of the draft."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from nicegui import events, run, ui
from sqlalchemy.orm import Session

from app.colors import MINIMUM_TEXT_CONTRAST, contrast_ratio, readable_color_on, readable_text_on
from app.context import AppContext
from app.images import MAX_UPLOAD_BYTES, ImageRejected, process_icon, process_logo
from app.services.portal_preview import PreviewCustomer, load_preview_customer, preview_view
from app.services.portal_settings import (
    ImageEdit,
    ImageKind,
    branding_image_url,
    get_portal_settings,
    save_branding,
    validate_branding,
)
from app.validation import HEX_COLOR
from app.views import PortalSettingsView
from components.portal import PreviewActions, portal_view
from components.settings import (
    SettingsToolbar,
    portal_preview_region,
    settings_card,
    settings_layout,
)
from pages.merchant.scaffold import MerchantPage, merchant_page
from pages.merchant.settings_editor import SettingsEditor

WHITE = "#ffffff"
TOO_LARGE = "The file is larger than 2 MB."
NOT_AN_IMAGE = "This file is not a PNG, JPEG or WebP image."
ACCEPT = ".png,.jpg,.jpeg,.webp,image/png,image/jpeg,image/webp"
IMAGES: dict[ImageKind, tuple[str, str, Callable[[bytes], bytes]]] = {
    "icon": ("Icon", "A square image for the portal header and the browser tab, resized to 128 × 128.", process_icon),
    "logo": ("Logo", "Shown in the portal header instead of the icon, at most 80 pixels high.", process_logo),
}


@dataclass(frozen=True, slots=True)
class BrandingDraft:
    """Unsaved branding: colours as typed, and per image None (unchanged) or an edit (new PNG, or removal)."""

    brand_color: str
    accent_color: str
    icon: ImageEdit | None = None
    logo: ImageEdit | None = None


class BrandingEditor(SettingsEditor):
    def __init__(self, page: MerchantPage, *, saved: PortalSettingsView, subject: PreviewCustomer) -> None:
        super().__init__(page, saved)
        self.subject = subject
        self.draft = BrandingDraft(brand_color=saved.brand_color, accent_color=saved.accent_color)
        self.color_fields: dict[str, ui.color_input] = {}
        self.upload_errors: dict[ImageKind, ui.label] = {}

    # --- State ------------------------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.draft != BrandingDraft(brand_color=self.saved.brand_color, accent_color=self.saved.accent_color)

    def image_src(self, kind: ImageKind) -> str | None:
        """What the draft shows: a new upload (as a data URL of our re-encoded PNG), the saved image, or nothing."""
        edit = self.draft.icon if kind == "icon" else self.draft.logo
        if edit is None:
            return branding_image_url(self.saved, kind)
        return f"data:image/png;base64,{base64.b64encode(edit.png).decode()}" if edit.png else None

    def change_color(self, name: str, value: str) -> None:
        """A keystroke or pick in a colour field: the preview and the contrast follow (the form keeps its focus)."""
        self.draft = replace(self.draft, **{name: value})
        self.preview.refresh()
        self.show_state()

    def edit_image(self, kind: ImageKind, edit: ImageEdit) -> None:
        self.draft = replace(self.draft, **{kind: edit})
        self.form.refresh()
        self.preview.refresh()

    def show_state(self) -> None:
        errors = validate_branding(brand_color=self.draft.brand_color, accent_color=self.draft.accent_color)
        self.show_errors(errors)
        self.contrast.refresh()
        self.toolbar.show(dirty=self.dirty, valid=not errors)

    def show_errors(self, errors: Mapping[str, str]) -> None:
        # ui.color_input has no validation of its own: show the domain's message through Quasar's error props.
        for name, field in self.color_fields.items():
            message = errors.get(name)
            field.props["error"] = message is not None
            field.props["error-message"] = message or ""
            field.update()

    def restart_from(self, saved: PortalSettingsView) -> None:
        self.saved = saved
        self.draft = BrandingDraft(brand_color=saved.brand_color, accent_color=saved.accent_color)
        # Now, not when the form rebuilds after this handler: the second click of a double click finds Save off.
        self.toolbar.save.disable()
        self.form.refresh()
        self.preview.refresh()

    # --- Actions ----------------------------------------------------------------------------------------------

    async def upload(self, kind: ImageKind, event: events.UploadEventArguments) -> None:
        """Check and re-encode the file now; it joins the draft (and the preview) and is stored only on Save."""
        self.upload_errors[kind].set_text("")
        if isinstance(event.sender, ui.upload):
            event.sender.reset()  # the next file may have the same name
        if event.file.size() > MAX_UPLOAD_BYTES:
            self.refuse(kind, TOO_LARGE)
            return
        process = IMAGES[kind][2]
        try:
            png = await run.io_bound(process, await event.file.read())
        except ImageRejected as rejected:
            self.refuse(kind, str(rejected))
            return
        self.edit_image(kind, ImageEdit(png))

    def refuse(self, kind: ImageKind, message: str) -> None:
        self.upload_errors[kind].set_text(message)
        ui.notify(message, type="negative")

    def rejected_by_browser(self, kind: ImageKind, event: events.GenericEventArguments) -> None:
        """The browser refused the file before sending it: too large, or not an accepted type."""
        reasons = {entry.get("failedPropValidation") for entry in event.args or [] if isinstance(entry, dict)}
        self.refuse(kind, NOT_AN_IMAGE if "accept" in reasons else TOO_LARGE)

    def remove(self, kind: ImageKind) -> None:
        self.edit_image(kind, ImageEdit(None))

    def write(self, session: Session, *, force: bool) -> PortalSettingsView:
        return save_branding(
            session=session,
            merchant_id=self.page.merchant_id,
            brand_color=self.draft.brand_color,
            accent_color=self.draft.accent_color,
            icon=self.draft.icon,
            logo=self.draft.logo,
            expected_version=self.saved.version,
            force=force,
            clock=self.page.context.clock,
        )

    # --- Rendering --------------------------------------------------------------------------------------------

    def build(self) -> None:
        ui.label("Make the customer portal look like your business.").classes("text-body2 text-grey-8 -mt-2")
        self.toolbar = SettingsToolbar(on_reset=self.reset, on_save=self.save)
        with settings_layout() as (form_column, preview_column):
            with form_column:
                self.form()
            with preview_column, portal_preview_region():
                self.preview()

    @ui.refreshable_method
    def preview(self) -> None:
        icon_src, logo_src = self.image_src("icon"), self.image_src("logo")
        draft = replace(
            self.saved,
            brand_color=self.draft.brand_color,
            accent_color=self.draft.accent_color,
            has_icon=icon_src is not None,
            has_logo=logo_src is not None,
        )
        view = preview_view(
            draft=draft, account=self.page.account, data=self.subject.data, icon_src=icon_src, logo_src=logo_src
        )
        portal_view(view, PreviewActions(self.subject.data, self.subject.invoices))

    @ui.refreshable_method
    def form(self) -> None:
        for kind, (title, description, _process) in IMAGES.items():
            self._image_card(kind, title, description)
        with settings_card("Colours", "Buttons and links use the brand colour; the business panel the accent colour."):
            self.color_fields = {
                "brand_color": self._color_field("brand_color", "Brand colour"),
                "accent_color": self._color_field("accent_color", "Accent colour"),
            }
            self.contrast()
        self.show_state()  # the fields were just (re)built

    def _image_card(self, kind: ImageKind, title: str, description: str) -> None:
        with settings_card(title, f"{description} PNG, JPEG or WebP, up to 2 MB."):
            # Quasar's uploader is kept out of sight: its own add button has no accessible name, ours has.
            upload = (
                ui.upload(
                    label=f"Upload {kind}",
                    auto_upload=True,
                    max_file_size=MAX_UPLOAD_BYTES,
                    on_upload=lambda event, kind=kind: self.upload(kind, event),
                )
                .props(f'accept="{ACCEPT}"')
                .classes("hidden")
                .mark(f"{kind}-upload")
            )
            upload.on("rejected", lambda event, kind=kind: self.rejected_by_browser(kind, event))
            src = self.image_src(kind)
            with ui.row().classes("items-center gap-3 w-full"):
                if src:
                    size = "w-16" if kind == "icon" else "w-48"
                    ui.image(src).props(f'alt="{title}" fit=contain no-spinner').classes(
                        f"h-16 {size} bg-grey-2 rounded-borders"
                    ).mark(f"{kind}-image")
                else:
                    ui.label(f"No {kind} yet").classes("text-body2 text-grey-7")
                ui.space()
                ui.button(
                    f"Replace {kind}" if src else f"Upload {kind}",
                    icon="upload",
                    on_click=lambda upload=upload: upload.run_method("pickFiles"),
                ).props("outline no-caps")
                if src:
                    ui.button(f"Remove {kind}", icon="delete", on_click=lambda kind=kind: self.remove(kind)).props(
                        "flat no-caps color=negative"
                    )
            self.upload_errors[kind] = ui.label().classes("text-body2 text-negative").props('role="alert"')

    def _color_field(self, name: str, label: str) -> ui.color_input:
        field = (
            ui.color_input(label, value=getattr(self.draft, name), preview=True)
            .props('outlined dense hint="# and six hex digits, like #635bff"')
            .classes("w-full")
        )
        field.button.props(f'aria-label="Pick the {label.lower()}"')
        field.on_value_change(lambda event: self.change_color(name, (event.value or "").strip()))
        return field

    @ui.refreshable_method
    def contrast(self) -> None:
        """WCAG contrast of what customers read on (and in) the chosen colours, with a warning below 4.5:1."""
        brand, accent = self.draft.brand_color, self.draft.accent_color
        checks: list[tuple[str, float, str]] = []  # what, contrast, what the portal does about a low one
        if HEX_COLOR.fullmatch(brand):
            checks.append(("Button text on the brand colour", contrast_ratio(brand, readable_text_on(brand)), ""))
            shade = readable_color_on(brand)
            checks.append(
                (
                    "Brand-coloured links and outlined buttons on white",
                    contrast_ratio(brand, WHITE),
                    f"customers see them in a darker shade, {shade} ({contrast_ratio(shade, WHITE):.1f}:1)",
                )
            )
        if HEX_COLOR.fullmatch(accent):
            checks.append(("Text on the accent colour", contrast_ratio(accent, readable_text_on(accent)), ""))
        with ui.column().classes("gap-1 w-full").mark("contrast"):
            for what, ratio, remedy in checks:
                low = ratio < MINIMUM_TEXT_CONTRAST
                with ui.row().classes("items-center gap-2 no-wrap"):
                    ui.icon("warning" if low else "check_circle", color="orange-9" if low else "positive", size="xs")
                    text = f"{what}: contrast {ratio:.1f}:1"
                    if low:
                        text += f" — below 4.5:1, hard to read for many people; {remedy or 'choose a darker colour'}"
                    ui.label(text).classes("text-body2")


def register(context: AppContext) -> None:
    merchant_page(context, "/settings/branding", title="Branding")(branding_page)


def branding_page(page: MerchantPage) -> None:
    with page.context.database.transaction() as session:
        saved = get_portal_settings(session=session, merchant_id=page.merchant_id)
        subject = load_preview_customer(
            session=session, merchant_id=page.merchant_id, customer_id=None, now=page.context.clock()
        )
    BrandingEditor(page, saved=saved, subject=subject).build()
