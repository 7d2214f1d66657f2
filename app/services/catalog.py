"""The merchant's catalogue: products and their recurring prices, as the Products page, the API and imports use it.

A price's terms (amount, currency, interval) never change, as at Stripe: subscriptions and invoices refer to it, so a
change of price is a new price, and the old one is archived (`active=False`). Archived prices stay on the
subscriptions that have them but cannot be chosen for new ones; archiving a product archives its prices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.enums import EventType, PriceInterval
from app.errors import NotFound, ValidationFailed
from app.models import Price, Product, SubscriptionItem
from app.services.api_lists import DEFAULT_LIMIT, newest_first_page, require_owned
from app.services.api_objects import ApiObject, ListObject, PriceObject, ProductObject
from app.services.events import SYSTEM, Actor, record_event
from app.validation import check_length
from app.views.catalog import CatalogPrice, CatalogProduct

SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "CNY")
MAX_UNIT_AMOUNT = 99_999_999  # minor units, as at Stripe ($999,999.99)


@dataclass(frozen=True, slots=True)
class PriceTerms:
    """What a new price charges: `unit_amount` minor units of `currency` every `interval_count` `interval`s."""

    unit_amount: int
    currency: str
    interval: PriceInterval | str
    interval_count: int = 1
    nickname: str = ""
    active: bool = True


def create_product(
    *,
    session: Session,
    merchant_id: str,
    name: str,
    description: str = "",
    active: bool = True,
    actor: Actor = SYSTEM,
    clock: Clock = system_clock,
) -> CatalogProduct:
    """A new product (`product.created`)."""
    errors = _product_errors(name=name, description=description)
    if errors:
        raise ValidationFailed(errors)
    product = Product(
        merchant_id=merchant_id, name=name.strip(), description=description.strip(), active=active, created_at=clock()
    )
    session.add(product)
    session.flush()
    _record(session, merchant_id, EventType.PRODUCT_CREATED, ProductObject.from_row(product), actor, clock)
    return product_view(product, [], set())


def update_product(
    *,
    session: Session,
    merchant_id: str,
    product_id: str,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
    actor: Actor = SYSTEM,
    clock: Clock = system_clock,
) -> CatalogProduct:
    """Rename, describe, archive (`active=False`, which archives its prices too) or restore a product:
    `product.updated`, and `price.updated` for each price archived with it; no event for what did not change."""
    product = _product(session, merchant_id, product_id, lock=True)
    errors = _product_errors(name=name, description=description)
    if errors:
        raise ValidationFailed(errors)
    before = ProductObject.from_row(product)
    if name is not None:
        product.name = name.strip()
    if description is not None:
        product.description = description.strip()
    if active is not None:
        product.active = active
    if (after := ProductObject.from_row(product)) != before:
        _record(session, merchant_id, EventType.PRODUCT_UPDATED, after, actor, clock, previous=before)
    prices = _prices_of(session, [product.id])
    if active is False:
        for price in prices:
            _set_price(session, price, price.nickname, False, actor, clock)
    session.flush()
    return product_view(product, prices, _used(session, [p.id for p in prices]))


def get_product(*, session: Session, merchant_id: str, product_id: str) -> CatalogProduct:
    product = _product(session, merchant_id, product_id)
    prices = _prices_of(session, [product.id])
    return product_view(product, prices, _used(session, [p.id for p in prices]))


def list_catalog(*, session: Session, merchant_id: str) -> tuple[CatalogProduct, ...]:
    """Every product with its prices, for the Products page: active products first, then by name; each product's
    active prices first, then by interval and amount."""
    products = session.scalars(
        select(Product)
        .where(Product.merchant_id == merchant_id)
        .order_by(Product.active.desc(), Product.name, Product.created_at)
    ).all()
    prices = _prices_of(session, [product.id for product in products])
    used = _used(session, [price.id for price in prices])
    by_product: dict[str, list[Price]] = {}
    for price in prices:
        by_product.setdefault(price.product_id, []).append(price)
    return tuple(product_view(product, by_product.get(product.id, []), used) for product in products)


def choosable_prices(*, session: Session, merchant_id: str) -> tuple[CatalogPrice, ...]:
    """The prices a new subscription may have: active prices of active products."""
    return tuple(
        price
        for product in list_catalog(session=session, merchant_id=merchant_id)
        if product.active
        for price in product.prices
        if price.active
    )


def create_price(
    *,
    session: Session,
    merchant_id: str,
    product_id: str,
    terms: PriceTerms,
    actor: Actor = SYSTEM,
    clock: Clock = system_clock,
) -> CatalogPrice:
    """A new price of an active product (`price.created`)."""
    errors = price_errors(terms)
    try:
        product = _product(session, merchant_id, product_id)
    except NotFound:
        errors["product"] = "Choose one of your products."
    else:
        if not product.active:
            errors["product"] = "This product is archived: restore it before adding prices."
    if errors:
        raise ValidationFailed(errors)
    price = Price(
        merchant_id=merchant_id,
        product_id=product.id,
        nickname=terms.nickname.strip(),
        unit_amount=terms.unit_amount,
        currency=terms.currency.upper(),
        interval=PriceInterval(terms.interval),
        interval_count=terms.interval_count,
        active=terms.active,
        created_at=clock(),
    )
    price.product = product
    session.add(price)
    session.flush()
    _record(session, merchant_id, EventType.PRICE_CREATED, PriceObject.from_row(price), actor, clock)
    return price_view(price, in_use=False)


def update_price(
    *,
    session: Session,
    merchant_id: str,
    price_id: str,
    nickname: str | None = None,
    active: bool | None = None,
    actor: Actor = SYSTEM,
    clock: Clock = system_clock,
) -> CatalogPrice:
    """Rename, archive or restore a price (restoring needs an active product): `price.updated` when that changed
    something. Its terms never change."""
    price = _price(session, merchant_id, price_id, lock=True)
    errors: dict[str, str] = {}
    if nickname is not None and (message := check_length(nickname, 120)):
        errors["nickname"] = message
    if active and not price.product.active:
        errors["active"] = "The product is archived: restore the product first."
    if errors:
        raise ValidationFailed(errors)
    _set_price(
        session,
        price,
        price.nickname if nickname is None else nickname.strip(),
        price.active if active is None else active,
        actor,
        clock,
    )
    session.flush()
    return price_view(price, in_use=bool(_used(session, [price.id])))


def get_price(*, session: Session, merchant_id: str, price_id: str) -> CatalogPrice:
    price = _price(session, merchant_id, price_id)
    return price_view(price, in_use=bool(_used(session, [price.id])))


def price_errors(terms: PriceTerms) -> dict[str, str]:
    """Field errors of a new price's terms, named as the API names them."""
    errors: dict[str, str] = {}
    if message := _amount_error(terms.unit_amount):
        errors["unit_amount"] = message
    if not isinstance(terms.currency, str) or terms.currency.upper() not in SUPPORTED_CURRENCIES:
        errors["currency"] = f"Choose one of {', '.join(SUPPORTED_CURRENCIES)}."
    interval = PriceInterval(terms.interval) if terms.interval in PriceInterval._value2member_map_ else None
    if interval is None:
        errors["interval"] = "Choose day, week, month or year."
    count = terms.interval_count
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        errors["interval_count"] = "Give a whole number of intervals, at least 1."
    elif interval is not None and count > interval.max_count:
        errors["interval_count"] = f"Bill at least once a year: at most {interval.max_count} {interval.value}s."
    if message := check_length(terms.nickname, 120):
        errors["nickname"] = message
    return errors


def product_view(product: Product, prices: Iterable[Price], used: set[str]) -> CatalogProduct:
    return CatalogProduct(
        id=product.id,
        name=product.name,
        description=product.description,
        active=product.active,
        created_at=product.created_at,
        prices=tuple(price_view(price, in_use=price.id in used, product_name=product.name) for price in prices),
    )


def price_view(price: Price, *, in_use: bool, product_name: str | None = None) -> CatalogPrice:
    return CatalogPrice(
        id=price.id,
        product_id=price.product_id,
        product_name=product_name if product_name is not None else price.product.name,
        nickname=price.nickname,
        unit_amount=price.unit_amount,
        currency=price.currency,
        interval=price.interval,
        interval_count=price.interval_count,
        active=price.active,
        in_use=in_use,
        created_at=price.created_at,
    )


def _amount_error(amount: object) -> str | None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        return "Give the amount as a whole number of minor units (cents)."
    if not 0 <= amount <= MAX_UNIT_AMOUNT:
        return f"Give an amount from 0 to {MAX_UNIT_AMOUNT:,} minor units."
    return None


def _product_errors(*, name: str | None, description: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if name is not None and (message := check_length(name.strip(), 120, required=True)):
        errors["name"] = message
    if description is not None and (message := check_length(description.strip(), 500, multiline=True)):
        errors["description"] = message
    return errors


def _set_price(session: Session, price: Price, nickname: str, active: bool, actor: Actor, clock: Clock) -> None:
    """Give a price this nickname and state; `price.updated` when either changed."""
    before = PriceObject.from_row(price)
    price.nickname, price.active = nickname, active
    if (after := PriceObject.from_row(price)) != before:
        _record(session, price.merchant_id, EventType.PRICE_UPDATED, after, actor, clock, previous=before)


def _record(
    session: Session,
    merchant_id: str,
    event_type: EventType,
    resource: ApiObject,
    actor: Actor,
    clock: Clock,
    *,
    previous: ApiObject | None = None,
) -> None:
    """A catalogue event: the merchant's, about no customer."""
    record_event(
        session=session,
        merchant_id=merchant_id,
        customer_id=None,
        event_type=event_type,
        resource=resource,
        previous=previous,
        actor=actor,
        clock=clock,
    )


def _product(session: Session, merchant_id: str, product_id: str, *, lock: bool = False) -> Product:
    statement = select(Product).where(Product.id == product_id, Product.merchant_id == merchant_id)
    product = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if product is None:
        raise NotFound("product")
    return product


def _price(session: Session, merchant_id: str, price_id: str, *, lock: bool = False) -> Price:
    statement = select(Price).where(Price.id == price_id, Price.merchant_id == merchant_id)
    price = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if price is None:
        raise NotFound("price")
    return price


def _prices_of(session: Session, product_ids: list[str]) -> list[Price]:
    if not product_ids:
        return []
    return list(
        session.scalars(
            select(Price)
            .where(Price.product_id.in_(product_ids))
            .order_by(Price.active.desc(), Price.interval, Price.interval_count, Price.unit_amount, Price.created_at)
        )
    )


def _used(session: Session, price_ids: list[str]) -> set[str]:
    """The prices among `price_ids` that a subscription has (answered by the subscription items' price index)."""
    if not price_ids:
        return set()
    statement = select(Price.id).where(Price.id.in_(price_ids), exists().where(SubscriptionItem.price_id == Price.id))
    return set(session.scalars(statement))


# --- The REST API's objects and lists ----------------------------------------------------------------------------


def product_object(product: CatalogProduct) -> ProductObject:
    return ProductObject.from_row(product)


def price_object(session: Session, merchant_id: str, price_id: str) -> PriceObject:
    return PriceObject.from_row(_price(session, merchant_id, price_id))


def list_product_objects(
    *,
    session: Session,
    merchant_id: str,
    active: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
) -> ListObject[ProductObject]:
    statement = select(Product).where(Product.merchant_id == merchant_id)
    if active is not None:
        statement = statement.where(Product.active == active)
    products, has_more = newest_first_page(
        session, statement, Product, merchant_id=merchant_id, limit=limit, starting_after=starting_after
    )
    return ListObject[ProductObject](
        data=tuple(product_object(product_view(product, [], set())) for product in products), has_more=has_more
    )


def list_price_objects(
    *,
    session: Session,
    merchant_id: str,
    product_id: str | None = None,
    active: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    starting_after: str | None = None,
) -> ListObject[PriceObject]:
    statement = select(Price).where(Price.merchant_id == merchant_id)
    if product_id is not None:
        require_owned(session, Product, product_id, merchant_id, param="product")
        statement = statement.where(Price.product_id == product_id)
    if active is not None:
        statement = statement.where(Price.active == active)
    prices, has_more = newest_first_page(
        session, statement, Price, merchant_id=merchant_id, limit=limit, starting_after=starting_after
    )
    return ListObject[PriceObject](data=tuple(PriceObject.from_row(price) for price in prices), has_more=has_more)
