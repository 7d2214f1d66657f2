"""Portal settings: what the portal looks like and which features customers get."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.enums import BillingField, CancelMode, DiscountKind, PauseDuration
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Merchant, PortalSettings, Price
from app.validation import (
    check_color,
    check_email,
    check_https_url,
    check_length,
    check_phone,
    format_phone,
    normalize_email,
)
from app.views import PortalSettingsView

ImageKind = Literal["icon", "logo"]
IMAGE_KINDS: tuple[ImageKind, ...] = ("icon", "logo")
CONFLICT_MESSAGE = "The portal settings were saved elsewhere after you opened this page."

# What the settings page saves; the branding page saves the colours and images.
FUNCTIONALITY_FIELDS = (
    "invoice_history",
    "shipping_information",
    "cancel_subscriptions",
    "cancel_mode",
    "cancellation_reasons",
    "payment_method_update",
    "billing_details_update",
    "billing_fields",
    "plan_switching",
    "switchable_price_ids",
    "downgrades_at_period_end",
    "pause_subscriptions",
    "pause_durations",
    "resubscribe",
    "resubscribe_price_choice",
    "retention_offer",
    "retention_discount_kind",
    "retention_discount_value",
    "retention_periods",
)
MAX_RETENTION_PERIODS = 24
MAX_AMOUNT_OFF = 100_000_000  # minor units
TEXT_LIMITS = {"headline": 120, "address": 300}
URL_FIELDS = ("website_url", "terms_url", "privacy_url", "default_return_url")
URL_MAX_LENGTH = 300
BUSINESS_FIELDS = ("headline", "support_email", "support_phone", "address", *URL_FIELDS)
SETTINGS_FIELDS = FUNCTIONALITY_FIELDS + BUSINESS_FIELDS


def to_settings_view(row: PortalSettings) -> PortalSettingsView:
    return PortalSettingsView(
        merchant_id=row.merchant_id,
        version=row.version,
        brand_color=row.brand_color,
        accent_color=row.accent_color,
        has_icon=row.has_icon,
        has_logo=row.has_logo,
        invoice_history=row.invoice_history,
        shipping_information=row.shipping_information,
        cancel_subscriptions=row.cancel_subscriptions,
        cancel_mode=row.cancel_mode,
        cancellation_reasons=row.cancellation_reasons,
        payment_method_update=row.payment_method_update,
        billing_details_update=row.billing_details_update,
        billing_fields=tuple(BillingField(field) for field in row.billing_fields),
        plan_switching=row.plan_switching,
        switchable_price_ids=tuple(row.switchable_price_ids),
        downgrades_at_period_end=row.downgrades_at_period_end,
        pause_subscriptions=row.pause_subscriptions,
        pause_durations=tuple(PauseDuration(value) for value in row.pause_durations if value in set(PauseDuration)),
        resubscribe=row.resubscribe,
        resubscribe_price_choice=row.resubscribe_price_choice,
        retention_offer=row.retention_offer,
        retention_discount_kind=row.retention_discount_kind,
        retention_discount_value=row.retention_discount_value,
        retention_periods=row.retention_periods,
        headline=row.headline,
        support_email=row.support_email,
        support_phone=row.support_phone,
        address=row.address,
        website_url=row.website_url,
        terms_url=row.terms_url,
        privacy_url=row.privacy_url,
        default_return_url=row.default_return_url,
    )


def get_portal_settings(*, session: Session, merchant_id: str) -> PortalSettingsView:
    row = session.get(PortalSettings, merchant_id)
    if row is None:
        raise NotFound("portal settings")
    return to_settings_view(row)


@dataclass(frozen=True, slots=True)
class PortalOwner:
    """What every portal page shows of its merchant: the saved settings, the public name and the time zone."""

    settings: PortalSettingsView
    business_name: str
    time_zone: str


# Per database engine and merchant: (version, updated_at) and the settings view read at that point. Bounded: a
# process serving many merchants re-reads the settings of those it has not seen for a while.
_SAVED_SETTINGS: weakref.WeakKeyDictionary[Engine, dict[str, tuple[tuple[int, datetime], PortalSettingsView]]] = (
    weakref.WeakKeyDictionary()
)
SAVED_SETTINGS_KEPT = 1000


def portal_owner(*, session: Session, merchant_id: str) -> PortalOwner:
    """The merchant's saved portal settings, name and time zone, for a portal page load.

    One small query reads the name, the time zone and the settings' version and `updated_at`; the wide settings row
    is read only when those differ from the copy this process kept, so a Save made by any process (they share the
    database) shows on the next page load everywhere.
    """
    row = session.execute(
        select(PortalSettings.version, PortalSettings.updated_at, Merchant.public_business_name, Merchant.time_zone)
        .join(Merchant, Merchant.id == PortalSettings.merchant_id)
        .where(PortalSettings.merchant_id == merchant_id)
    ).first()
    if row is None:
        raise NotFound("portal settings")
    version, updated_at, business_name, time_zone = row
    kept = _SAVED_SETTINGS.setdefault(session.get_bind(), {})  # type: ignore[arg-type]
    entry = kept.get(merchant_id)
    if entry is not None and entry[0] == (version, updated_at):
        settings = entry[1]
    else:
        settings = get_portal_settings(session=session, merchant_id=merchant_id)
        kept.pop(merchant_id, None)
        if len(kept) >= SAVED_SETTINGS_KEPT:
            kept.pop(next(iter(kept)))  # the one kept longest
        kept[merchant_id] = ((version, updated_at), settings)
    return PortalOwner(settings=settings, business_name=business_name, time_zone=time_zone)


def branding_image_url(settings: PortalSettingsView, kind: str) -> str | None:
    """URL of the saved icon or logo (`kind` is "icon" or "logo"); the version busts browser caches."""
    present = settings.has_icon if kind == "icon" else settings.has_logo
    return f"/media/{settings.merchant_id}/{kind}.png?v={settings.version}" if present else None


# --- The settings page ------------------------------------------------------------------------------------------


def validate_portal_settings(draft: PortalSettingsView) -> dict[str, str]:
    """Field errors of the settings page's draft (empty when it can be saved); keys are the view's field names."""
    errors: dict[str, str | None] = {
        name: check_length(getattr(draft, name), limit, multiline=name == "address")
        for name, limit in TEXT_LIMITS.items()
    }
    if draft.support_email:
        errors["support_email"] = check_email(draft.support_email)
    if draft.support_phone:
        errors["support_phone"] = check_phone(draft.support_phone)
    for name in URL_FIELDS:
        value = getattr(draft, name)
        if value:
            errors[name] = check_https_url(value) or check_length(value, URL_MAX_LENGTH)
    if draft.cancel_mode not in set(CancelMode):
        errors["cancel_mode"] = "Choose when cancellations take effect."
    if not set(draft.billing_fields) <= set(BillingField):
        errors["billing_fields"] = "Choose fields from the list."
    elif draft.billing_details_update and not draft.billing_fields:
        errors["billing_fields"] = "Choose at least one detail customers can update."
    if draft.plan_switching and not draft.switchable_price_ids:
        errors["switchable_price_ids"] = "Choose at least one price customers can switch to."
    if not set(draft.pause_durations) <= set(PauseDuration):
        errors["pause_durations"] = "Choose durations from the list."
    elif draft.pause_subscriptions and not draft.pause_durations:
        errors["pause_durations"] = "Choose at least one way customers can pause."
    errors.update(_retention_errors(draft))
    return {name: message for name, message in errors.items() if message}


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _retention_errors(draft: PortalSettingsView) -> dict[str, str | None]:
    """The retention coupon: percent (1-100) or an amount off, for 1 to 24 invoices."""
    errors: dict[str, str | None] = {}
    if draft.retention_discount_kind not in set(DiscountKind):
        errors["retention_discount_kind"] = "Choose percent or amount off."
    elif draft.retention_discount_kind == DiscountKind.PERCENT:
        if not _whole(draft.retention_discount_value, 1, 100):
            errors["retention_discount_value"] = "Enter a whole percentage between 1 and 100."
    elif not _whole(draft.retention_discount_value, 1, MAX_AMOUNT_OFF):
        errors["retention_discount_value"] = "Enter an amount greater than zero."
    if not _whole(draft.retention_periods, 1, MAX_RETENTION_PERIODS):
        errors["retention_periods"] = f"Enter a number of invoices between 1 and {MAX_RETENTION_PERIODS}."
    return errors


def save_portal_settings(
    *,
    session: Session,
    draft: PortalSettingsView,
    expected_version: int,
    force: bool = False,
    clock: Clock = system_clock,
) -> PortalSettingsView:
    """Save the functionality and business information of `draft` in one statement and bump the version.

    Raises `Conflict` when the stored version is not `expected_version` (saved elsewhere meanwhile), unless `force`.
    Colours and images are left alone: the branding page saves those.
    """
    errors = validate_portal_settings(draft) | _price_errors(session, draft)
    if errors:
        raise ValidationFailed(errors)
    values: dict[str, Any] = {name: getattr(draft, name) for name in SETTINGS_FIELDS}
    values.update(
        cancel_mode=CancelMode(draft.cancel_mode),
        billing_fields=[field.value for field in BillingField if field.value in draft.billing_fields],
        switchable_price_ids=list(dict.fromkeys(draft.switchable_price_ids)),
        pause_durations=[duration.value for duration in PauseDuration if duration in draft.pause_durations],
        retention_discount_kind=DiscountKind(draft.retention_discount_kind),
        headline=draft.headline.strip(),
        address=draft.address.strip(),
        support_email=normalize_email(draft.support_email) if draft.support_email else "",
        support_phone=format_phone(draft.support_phone) if draft.support_phone else "",
    )
    return _write(session, draft.merchant_id, values, expected_version=expected_version, force=force, clock=clock)


def _price_errors(session: Session, draft: PortalSettingsView) -> dict[str, str]:
    """Customers may only switch to the merchant's own active prices."""
    if not draft.switchable_price_ids:
        return {}
    owned = set(
        session.scalars(
            select(Price.id).where(
                Price.merchant_id == draft.merchant_id, Price.active, Price.id.in_(draft.switchable_price_ids)
            )
        )
    )
    if owned != set(draft.switchable_price_ids):
        return {"switchable_price_ids": "Some of these prices no longer exist or are archived; choose again."}
    return {}


def _write(
    session: Session, merchant_id: str, values: dict[str, Any], *, expected_version: int, force: bool, clock: Clock
) -> PortalSettingsView:
    """Compare-and-set: the version check and the write are one UPDATE, so two concurrent saves cannot both win."""
    statement = update(PortalSettings).where(PortalSettings.merchant_id == merchant_id)
    if not force:
        statement = statement.where(PortalSettings.version == expected_version)
    result = session.execute(
        statement.values(**values, version=PortalSettings.version + 1, updated_at=clock()),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if session.get(PortalSettings, merchant_id) is None:
            raise NotFound("portal settings")
        raise Conflict(CONFLICT_MESSAGE)
    return to_settings_view(session.get_one(PortalSettings, merchant_id, populate_existing=True))


# --- The branding page ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageEdit:
    """Replace a branding image with `png` (from `app.images.process_icon`/`process_logo`), or remove it (None)."""

    png: bytes | None


@dataclass(frozen=True, slots=True)
class BrandingImage:
    png: bytes
    version: int


def validate_branding(*, brand_color: str, accent_color: str) -> dict[str, str]:
    errors = {"brand_color": check_color(brand_color), "accent_color": check_color(accent_color)}
    return {name: message for name, message in errors.items() if message}


def save_branding(
    *,
    session: Session,
    merchant_id: str,
    brand_color: str,
    accent_color: str,
    icon: ImageEdit | None = None,
    logo: ImageEdit | None = None,
    expected_version: int,
    force: bool = False,
    clock: Clock = system_clock,
) -> PortalSettingsView:
    """Save colours and, when given, replace or remove the icon and logo; one atomic write that bumps the version."""
    errors = validate_branding(brand_color=brand_color, accent_color=accent_color)
    if errors:
        raise ValidationFailed(errors)
    values: dict[str, Any] = {"brand_color": brand_color.lower(), "accent_color": accent_color.lower()}
    for kind, edit in (("icon", icon), ("logo", logo)):
        if edit is not None:
            values[f"{kind}_png"] = edit.png
            values[f"has_{kind}"] = edit.png is not None
    return _write(session, merchant_id, values, expected_version=expected_version, force=force, clock=clock)


def load_branding_image(*, session: Session, merchant_id: str, kind: str) -> BrandingImage:
    """The stored PNG of the merchant's icon or logo, with the settings version; NotFound when there is none."""
    if kind not in IMAGE_KINDS:
        raise NotFound("image")
    column = PortalSettings.icon_png if kind == "icon" else PortalSettings.logo_png
    row = session.execute(
        select(column, PortalSettings.version).where(PortalSettings.merchant_id == merchant_id)
    ).one_or_none()
    if row is None or row[0] is None:
        raise NotFound("image")
    return BrandingImage(png=row[0], version=row[1])
