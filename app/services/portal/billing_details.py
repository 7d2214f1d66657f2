"""Billing details and shipping information that customers edit in the portal: saved only when all valid."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.config import Settings
from app.enums import (
    BillingField,
    EventType,
)
from app.errors import Forbidden, ValidationFailed
from app.i18n import N_
from app.models import (
    Customer,
    PaymentMethod,
)
from app.services.api_objects import CustomerObject
from app.services.events import Actor
from app.services.portal.access import (
    DISABLED_MESSAGE,
    enabled_settings,
    owned_customer,
    record_portal_event,
)
from app.services.portal.email_change import request_email_change
from app.services.portal_links import PortalAccess
from app.services.resource_views import (
    address_columns,
    customer_view,
)
from app.tax_ids import TAX_ID_TYPES
from app.validation import (
    check_country,
    check_email,
    check_length,
    check_phone,
    check_postal_code,
    format_phone,
    normalize_email,
)
from app.views import (
    Address,
    BillingDetailsInput,
    CustomerView,
    ShippingInput,
)

log = logging.getLogger(__name__)


_ADDRESS_LIMITS = {"line1": 120, "line2": 120, "city": 80, "postal_code": 20, "state": 80}


def address_errors(address: Address, prefix: str) -> dict[str, str]:
    """Errors keyed `<prefix>.line1` etc.; an address needs a street, city, country and (where used) postal code."""
    errors = {
        f"{prefix}.{name}": message
        for name, limit in _ADDRESS_LIMITS.items()
        if (message := check_length(getattr(address, name), limit, required=name in ("line1", "city")))
    }
    if message := check_country(address.country):
        errors[f"{prefix}.country"] = message
    elif (message := check_postal_code(address.country, address.postal_code)) and f"{prefix}.postal_code" not in errors:
        errors[f"{prefix}.postal_code"] = message
    return errors


def clean_address(address: Address) -> Address:
    return Address(
        line1=address.line1.strip(),
        line2=address.line2.strip(),
        city=address.city.strip(),
        postal_code=address.postal_code.strip().upper(),
        state=address.state.strip(),
        country=address.country.strip().upper(),
    )


def tax_id_errors(tax_type: str, value: str) -> dict[str, str]:
    if not tax_type and not value:
        return {}
    if tax_type not in TAX_ID_TYPES:
        return {"tax_id_type": N_("Choose the type of tax ID.")}
    if not (tax_id_type := TAX_ID_TYPES[tax_type]).matches(value):
        return {"tax_id_value": tax_id_type.invalid_message}
    return {}


def update_billing_details(
    *,
    session: Session,
    access: PortalAccess,
    details: BillingDetailsInput,
    actor: Actor,
    clock: Clock,
    settings: Settings | None = None,
    locale: str = "",
) -> CustomerView:
    """Save the billing fields the merchant lets customers edit; nothing is saved unless every field is valid.

    A field left None is kept; a value for a field the merchant did not enable is refused (Forbidden). An empty
    phone, address (all parts blank) or tax ID (type and value blank) removes it; name and email are required.
    A new email is not saved: it is confirmed from the new address first (email_change.py), which needs `settings`
    (to sign the link); the returned view has it as `pending_email`.
    """
    portal_settings = enabled_settings(session=session, access=access, feature="billing_details_update")
    given = {
        BillingField.NAME: details.name is not None,
        BillingField.EMAIL: details.email is not None,
        BillingField.PHONE: details.phone is not None,
        BillingField.ADDRESS: details.address is not None,
        BillingField.TAX_ID: details.tax_id_type is not None or details.tax_id_value is not None,
    }
    if any(present and field.value not in portal_settings.billing_fields for field, present in given.items()):
        raise Forbidden(DISABLED_MESSAGE)
    customer = owned_customer(session, access)
    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    if details.name is not None:
        name = details.name.strip()
        errors.update({"name": message} if (message := check_length(name, 120, required=True)) else {})
        changes["name"] = name
    if details.email is not None:
        email = details.email.strip()
        if message := check_email(email) if email else N_("Enter your email address."):
            errors["email"] = message
        else:
            changes["email"] = normalize_email(email)
    if details.phone is not None:
        phone = details.phone.strip()
        if phone and (message := check_phone(phone)):
            errors["phone"] = message
        else:
            changes["phone"] = format_phone(phone) if phone else ""
    if details.address is not None:
        address = clean_address(details.address)
        if not address.is_empty:
            errors.update(address_errors(address, "address"))
        changes.update(address_columns("address", address))
    if given[BillingField.TAX_ID]:
        tax_type = (details.tax_id_type or "").strip()
        value = (details.tax_id_value or "").strip().upper()
        errors.update(tax_id_errors(tax_type, value))
        changes.update(tax_id_type=tax_type, tax_id_value=value)
    if errors:
        raise ValidationFailed(errors)
    new_email = changes.pop("email", customer.email)
    pending = ""
    if new_email != customer.email:
        if settings is None:
            raise Forbidden(N_("A new email address must be confirmed from that address."))
        request_email_change(
            session=session,
            settings=settings,
            access=access,
            customer=customer,
            new_email=str(new_email),
            locale=locale,
            clock=clock,
        )
        pending = str(new_email)
    view = _save_customer(session, access, customer, changes, actor, clock)
    return replace(view, pending_email=pending) if pending else view


def _save_customer(
    session: Session,
    access: PortalAccess,
    customer: Customer,
    changes: dict[str, object],
    actor: Actor,
    clock: Clock,
) -> CustomerView:
    """Apply changed columns and record `customer.updated`; no change, no event."""
    changed = [name for name, value in changes.items() if getattr(customer, name) != value]
    if changed:
        default_card = session.scalar(
            select(PaymentMethod.id).where(PaymentMethod.customer_id == customer.id, PaymentMethod.is_default)
        )
        before = CustomerObject.from_row(customer, default_payment_method=default_card)
        for name in changed:
            setattr(customer, name, changes[name])
        after = CustomerObject.from_row(customer, default_payment_method=default_card)
        record_portal_event(session, access, EventType.CUSTOMER_UPDATED, after, actor, clock, previous=before)
    return customer_view(customer)


def update_shipping(
    *, session: Session, access: PortalAccess, shipping: ShippingInput, actor: Actor, clock: Clock
) -> CustomerView:
    """Save the shipping name, phone and address (or copy the billing address with `same_as_billing`)."""
    enabled_settings(session=session, access=access, feature="shipping_information")
    customer = owned_customer(session, access)
    billing = customer_view(customer)
    name, phone = shipping.name.strip(), shipping.phone.strip()
    address = clean_address(shipping.address)
    if shipping.same_as_billing:
        if billing.address.is_empty:
            raise ValidationFailed({"same_as_billing": N_("Add a billing address first.")})
        address, name, phone = billing.address, name or billing.name, phone or billing.phone
    errors = address_errors(address, "address")
    if message := check_length(name, 120, required=True):
        errors["name"] = message
    if phone and (message := check_phone(phone)):
        errors["phone"] = message
    if errors:
        raise ValidationFailed(errors)
    changes: dict[str, object] = {
        "shipping_name": name,
        "shipping_phone": format_phone(phone) if phone else "",
        **address_columns("shipping", address),
    }
    return _save_customer(session, access, customer, changes, actor, clock)
