"""Portal settings: what the portal looks like and which features customers get."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import PortalSettings
from app.views import PortalSettingsView


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
        cancel_mode=row.cancel_mode.value,
        cancellation_reasons=row.cancellation_reasons,
        payment_method_update=row.payment_method_update,
        billing_details_update=row.billing_details_update,
        billing_fields=tuple(row.billing_fields),
        plan_switching=row.plan_switching,
        switchable_price_ids=tuple(row.switchable_price_ids),
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


def branding_image_url(settings: PortalSettingsView, kind: str) -> str | None:
    """URL of the saved icon or logo (`kind` is "icon" or "logo"); the version busts browser caches."""
    present = settings.has_icon if kind == "icon" else settings.has_logo
    return f"/media/{settings.merchant_id}/{kind}.png?v={settings.version}" if present else None
