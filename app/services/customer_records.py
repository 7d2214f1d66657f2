"""Creating, changing and deleting the merchant's customers: one set of rules for the API, dashboard and import."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.enums import EventType, SubscriptionStatus
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import SUPPORTED_LOCALES, supported_locale
from app.models import Customer, Event, PaymentMethod, Subscription, new_id
from app.services.api_lists import DEFAULT_LIMIT, newest_first
from app.services.api_objects import CUSTOMER_COLUMNS, CustomerObject, ListObject, customer_data
from app.services.charges import end_subscription, load_subscription
from app.services.customer_emails import is_live_email_clash
from app.services.events import Actor, event_values, record_event
from app.services.portal.billing_details import address_errors, clean_address, tax_id_errors
from app.services.portal_links import merchant_customer, revoke_all_links
from app.services.resource_views import address_columns
from app.validation import CONTROL_CHARACTERS, EMAIL_MESSAGE, check_length, formatted_phone, valid_email
from app.views import Address
from app.views.inputs import CustomerInput, ShippingDetails

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500
EMAIL_TAKEN = "Another customer has this email address already."
new_customer_id = new_id("cus")
_COLUMN_OF = {"metadata_": "metadata"}  # the model's attribute names that are not their column's
_BLANK: dict[str, object] = {name: "" for name in CUSTOMER_COLUMNS} | {"metadata": {}}
_API_COLUMNS = [Customer.__table__.c[name] for name in CUSTOMER_COLUMNS]


def create_customer(
    *, session: Session, merchant_id: str, details: CustomerInput, actor: Actor, clock: Clock
) -> CustomerObject:
    """Add a customer (`customer.created`). The email is required and, among the merchant's customers that are not
    deleted, unique: another customer with it is a Conflict that names them (the import updates that one instead)."""
    if details.email is None:
        raise ValidationFailed({"email": "Enter the customer's email address."})
    changes = customer_changes(details)
    _check_email_is_free(session, merchant_id, str(changes["email"]), None)
    columns = {"id": new_customer_id(), "merchant_id": merchant_id, "created_at": clock()}
    columns |= {_COLUMN_OF.get(name, name): value for name, value in _columns(changes).items()}
    # The object and its event are made before the first write: SQLite holds its write lock from the INSERT to the
    # commit, so that concurrent creates wait for two INSERTs only. Core inserts: no ORM objects to flush.
    created = CustomerObject.model_validate(customer_data(_BLANK | columns, default_payment_method=None))
    event = event_values(
        merchant_id=merchant_id,
        customer_id=created.id,
        event_type=EventType.CUSTOMER_CREATED,
        resource=created,
        actor=actor,
        created_at=clock(),
    )
    try:
        session.execute(insert(Customer.__table__).values(columns))
    except IntegrityError as error:
        if not is_live_email_clash(error):
            raise
        raise Conflict(EMAIL_TAKEN) from None
    session.execute(insert(Event.__table__).values(event))
    return created


def update_customer(
    *, session: Session, merchant_id: str, customer_id: str, details: CustomerInput, actor: Actor, clock: Clock
) -> CustomerObject:
    """Change the fields given (see CustomerInput); `customer.updated` with what changed, no event when nothing did."""
    customer = merchant_customer(session, merchant_id, customer_id)
    changes = _columns(customer_changes(details))
    if "email" in changes and changes["email"] != customer.email:
        _check_email_is_free(session, merchant_id, str(changes["email"]), customer.id)
    default_card = _default_cards(session, [customer.id]).get(customer.id)
    before = CustomerObject.from_row(customer, default_payment_method=default_card)
    for name, value in changes.items():
        setattr(customer, name, value)
    flush_email(session)
    after = CustomerObject.from_row(customer, default_payment_method=default_card)
    if after != before:
        _record(session, customer, EventType.CUSTOMER_UPDATED, after, actor, clock, previous=before)
    return after


def delete_customer(
    *, session: Session, merchant_id: str, customer_id: str, actor: Actor, clock: Clock
) -> CustomerObject:
    """Soft delete: the customer's portal links stop working (revoked), live subscriptions end now (nothing more is
    charged), and they leave lists and searches; invoices, payments and events stay. `customer.deleted`."""
    customer = merchant_customer(session, merchant_id, customer_id)
    now = clock()
    revoke_all_links(session=session, merchant_id=merchant_id, customer_id=customer.id, actor=actor, clock=clock)
    live = session.scalars(
        select(Subscription.id).where(
            Subscription.customer_id == customer.id, Subscription.status.not_in(SubscriptionStatus.ended())
        )
    ).all()
    for subscription_id in live:
        end_subscription(session, load_subscription(session, subscription_id), now, actor=actor)
    default_card = _default_cards(session, [customer.id]).get(customer.id)
    customer.deleted_at = now
    deleted = CustomerObject.from_row(customer, default_payment_method=default_card)
    _record(session, customer, EventType.CUSTOMER_DELETED, deleted, actor, clock)
    return deleted


def get_customer(*, session: Session, merchant_id: str, customer_id: str) -> CustomerObject:
    return CustomerObject.model_validate(
        customer_json(session=session, merchant_id=merchant_id, customer_id=customer_id)
    )


def customer_json(*, session: Session, merchant_id: str, customer_id: str) -> dict[str, Any]:
    """One of the merchant's (not deleted) customers as the API's JSON has it, in one query; NotFound for anyone
    else's, without telling which (as `merchant_customer`)."""
    row = session.execute(_ONE_CUSTOMER, {"id": customer_id, "merchant_id": merchant_id}).mappings().one_or_none()
    if row is None:
        raise NotFound("customer")
    return customer_data(row, default_payment_method=row["default_payment_method"])


def list_customer_objects(
    *,
    session: Session,
    merchant_id: str,
    email: str | None = None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
) -> ListObject[CustomerObject]:
    """The merchant's customers (not deleted), newest first; `email` finds those with this address (any case)."""
    page = customer_page(
        session=session, merchant_id=merchant_id, email=email, limit=limit, starting_after=starting_after
    )
    return ListObject[CustomerObject].model_validate(page)


def customer_page(
    *,
    session: Session,
    merchant_id: str,
    email: str | None = None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
) -> dict[str, Any]:
    """`list_customer_objects` as the API's JSON has it, for the API to encode as it is: one query for the page
    (rows, not ORM objects), plain dicts instead of 400 models validated twice (the JSON shape is tested against
    the models')."""
    statement = _customer_rows().where(Customer.merchant_id == merchant_id, Customer.deleted_at.is_(None))
    if email is not None:
        statement = statement.where(Customer.email == email.strip().lower())
    rows = (
        session.execute(
            newest_first(
                session, statement, Customer, merchant_id=merchant_id, limit=limit, starting_after=starting_after
            )
        )
        .mappings()
        .all()
    )
    return {
        "object": "list",
        "data": [customer_data(row, default_payment_method=row["default_payment_method"]) for row in rows[:limit]],
        "has_more": len(rows) > limit,
    }


def _customer_rows() -> Select[Any]:
    """The customer columns the API shows, and the id of their default card."""
    default_card = (
        select(PaymentMethod.id)
        .where(PaymentMethod.customer_id == Customer.id, PaymentMethod.is_default)
        .limit(1)
        .scalar_subquery()
    )
    return select(*_API_COLUMNS, default_card.label("default_payment_method"))


# Built once (building it took as long as running it): a retrieve's one statement.
_ONE_CUSTOMER = _customer_rows().where(
    Customer.id == bindparam("id"), Customer.merchant_id == bindparam("merchant_id"), Customer.deleted_at.is_(None)
)


def customer_changes(details: CustomerInput) -> dict[str, object]:
    """The validated, normalised values of the fields given, keyed by the API's names (`address`, `shipping`,
    `tax_id`, …; an address as an `Address`, metadata as a dict); ValidationFailed names every bad field the way the
    API does (`address.country`, `shipping.name`, `metadata`). The import checks its rows with it before writing."""
    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    if details.email is not None:
        email = details.email.strip()
        if not email:
            errors["email"] = "Enter the customer's email address."
        elif (normalized := valid_email(email)) is None:
            errors["email"] = EMAIL_MESSAGE
        else:
            changes["email"] = normalized
    if details.name is not None:
        name = details.name.strip()
        errors.update({"name": message} if (message := check_length(name, 120)) else {})
        changes["name"] = name
    if details.phone is not None:
        errors.update(_phone("phone", details.phone, changes))
    if details.locale is not None:
        locale = supported_locale(details.locale.strip()) if details.locale.strip() else ""
        if locale is None:
            errors["locale"] = f"Choose one of the portal's languages: {', '.join(SUPPORTED_LOCALES)}."
        else:
            changes["locale"] = locale
    if details.address is not None:
        address = clean_address(details.address)
        errors.update(address_errors(address, "address") if not address.is_empty else {})
        changes["address"] = address
    if details.shipping is not None:
        errors.update(_shipping(details.shipping, changes))
    if details.tax_id_type is not None or details.tax_id_value is not None:
        tax_type = (details.tax_id_type or "").strip()
        value = (details.tax_id_value or "").strip().upper()
        tax_errors = tax_id_errors(tax_type, value)
        errors.update({name.replace("tax_id_", "tax_id."): message for name, message in tax_errors.items()})
        if tax_type and not value and not tax_errors:
            errors["tax_id.value"] = "Enter the tax ID."
        changes["tax_id"] = (tax_type, value)
    if details.metadata is not None:
        if message := metadata_error(details.metadata):
            errors["metadata"] = message
        changes["metadata"] = dict(details.metadata)
    if errors:
        raise ValidationFailed(errors)
    return changes


def metadata_error(metadata: Mapping[str, str]) -> str | None:
    """Metadata is up to 50 pairs of text: keys of 1–40 characters without control characters, values up to 500."""
    if len(metadata) > MAX_METADATA_KEYS:
        return f"Use at most {MAX_METADATA_KEYS} keys."
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return "Keys and values are text."
        if not 1 <= len(key) <= MAX_METADATA_KEY_LENGTH or CONTROL_CHARACTERS.search(key):
            return f"Keys have 1 to {MAX_METADATA_KEY_LENGTH} characters, without line breaks or tabs."
        if len(value) > MAX_METADATA_VALUE_LENGTH:
            return f"Values have at most {MAX_METADATA_VALUE_LENGTH} characters."
    return None


def _phone(field: str, raw: str, changes: dict[str, object]) -> dict[str, str]:
    phone = raw.strip()
    formatted, message = formatted_phone(phone) if phone else ("", None)
    if message:
        return {field: message}
    changes[field] = formatted
    return {}


def _shipping(shipping: ShippingDetails, changes: dict[str, object]) -> dict[str, str]:
    """Shipping needs a name and an address; all of it blank removes it."""
    address = clean_address(shipping.address)
    name = shipping.name.strip()
    if address.is_empty and not name and not shipping.phone.strip():
        changes["shipping"] = ShippingDetails()
        return {}
    errors = address_errors(address, "shipping.address")
    if message := check_length(name, 120, required=True):
        errors["shipping.name"] = message
    shipping_changes: dict[str, object] = {}
    errors.update(_phone("shipping.phone", shipping.phone, shipping_changes))
    changes["shipping"] = ShippingDetails(
        name=name, phone=str(shipping_changes.get("shipping.phone", "")), address=address
    )
    return errors


def _columns(changes: Mapping[str, object]) -> dict[str, object]:
    """Customer columns for validated changes."""
    columns: dict[str, object] = {}
    for name, value in changes.items():
        if isinstance(value, Address):
            columns.update(address_columns("address", value))
        elif isinstance(value, ShippingDetails):
            columns.update(shipping_name=value.name, shipping_phone=value.phone)
            columns.update(address_columns("shipping", value.address))
        elif name == "tax_id":
            columns["tax_id_type"], columns["tax_id_value"] = value  # type: ignore[misc]
        elif name == "metadata":
            columns["metadata_"] = value
        else:
            columns[name] = value
    return columns


_OTHER_WITH_EMAIL = (
    select(Customer.id)
    .where(
        Customer.merchant_id == bindparam("merchant_id"),
        Customer.email == bindparam("email"),
        Customer.deleted_at.is_(None),
        Customer.id != bindparam("customer_id"),
    )
    .limit(1)
)  # built once: a create spent as long building this statement as running it


def _check_email_is_free(session: Session, merchant_id: str, email: str, customer_id: str | None) -> None:
    parameters = {"merchant_id": merchant_id, "email": email, "customer_id": customer_id or ""}
    other = session.scalar(_OTHER_WITH_EMAIL, parameters)
    if other is not None:
        raise Conflict(f"Customer {other} has this email address already.")


def flush_email(session: Session) -> None:
    """Flush a customer's new email; a Conflict when another live customer of the merchant has it now (a request
    that raced the check, e.g. two creates at once): the unique index decides. The transaction is lost then."""
    try:
        session.flush()
    except IntegrityError as error:
        if not is_live_email_clash(error):
            raise
        raise Conflict(EMAIL_TAKEN) from None


def _default_cards(session: Session, customer_ids: Iterable[str]) -> dict[str, str]:
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(PaymentMethod.customer_id, PaymentMethod.id).where(
            PaymentMethod.customer_id.in_(ids), PaymentMethod.is_default
        )
    )
    return {customer_id: method_id for customer_id, method_id in rows}


def _record(
    session: Session,
    customer: Customer,
    event_type: EventType,
    resource: CustomerObject,
    actor: Actor,
    clock: Clock,
    *,
    previous: CustomerObject | None = None,
) -> None:
    record_event(
        session=session,
        merchant_id=customer.merchant_id,
        customer_id=customer.id,
        event_type=event_type,
        resource=resource,
        previous=previous,
        actor=actor,
        clock=clock,
    )
