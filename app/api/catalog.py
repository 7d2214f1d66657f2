"""`/api/v1/products` and `/api/v1/prices`: create, retrieve, list, and update a name, nickname or `active`.

A price's terms (amount, currency, interval) never change: a change of price is a new price (and the old one is
archived with `active: false`), as at Stripe.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.errors import ApiRoute, responses
from app.api.requests import API_ACTOR, CallerDependency, IdempotentPost
from app.context import AppContext
from app.services.api_keys import ApiCaller
from app.services.api_lists import DEFAULT_LIMIT, MAX_LIMIT
from app.services.api_objects import ListObject, PriceObject
from app.services.catalog import (
    PriceTerms,
    ProductObject,
    create_price,
    create_product,
    get_product,
    list_price_objects,
    list_product_objects,
    price_object,
    product_object,
    update_price,
    update_product,
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductCreate(_Input):
    name: str = Field(max_length=200, examples=["Pro plan"])
    description: str = Field(default="", max_length=1000)
    active: bool = True


class ProductUpdate(_Input):
    """`active: false` archives the product and its prices (subscriptions keep theirs)."""

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    active: bool | None = None


class PriceCreate(_Input):
    product: str = Field(max_length=32, description="The product's id (`prod_…`).")
    unit_amount: int = Field(description="In minor units: 2900 is $29.00 (0 to 99,999,999).", examples=[2900])
    currency: str = Field(max_length=3, description="USD, EUR, GBP, CHF, CAD, AUD, JPY or CNY.", examples=["USD"])
    interval: Literal["day", "week", "month", "year"]
    interval_count: int = Field(default=1, description="Bills every `interval_count` intervals; at most a year.")
    nickname: str = Field(default="", max_length=200)
    active: bool = True


class PriceUpdate(_Input):
    """Only the nickname and `active` change; the amount, currency and interval never do (create a new price)."""

    nickname: str | None = Field(default=None, max_length=200)
    active: bool | None = None


def build_catalog_router(
    context: AppContext, api_caller: CallerDependency, idempotent_post: Callable[..., object]
) -> APIRouter:
    router = APIRouter(route_class=ApiRoute)
    database, clock = context.database, context.clock
    Caller = Annotated[ApiCaller, Depends(api_caller)]  # noqa: N806 - a type alias
    Post = Annotated[IdempotentPost, Depends(idempotent_post)]  # noqa: N806 - a type alias
    Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]  # noqa: N806 - a type alias
    After = Annotated[str | None, Query(max_length=32, description="The last object of the previous page.")]  # noqa: N806

    @router.post(
        "/products",
        tags=["Products"],
        status_code=status.HTTP_201_CREATED,
        response_model=ProductObject,
        summary="Create a product",
        responses=responses(401, 422),
    )
    def create_a_product(body: ProductCreate, post: Post) -> Response:
        def created() -> ProductObject:
            with database.transaction() as session:
                product = create_product(
                    session=session,
                    merchant_id=post.caller.merchant_id,
                    name=body.name,
                    description=body.description,
                    active=body.active,
                    actor=API_ACTOR,
                    clock=clock,
                )
            return product_object(product)

        return post.respond(status.HTTP_201_CREATED, created)

    @router.get(
        "/products/{product_id}", tags=["Products"], summary="Retrieve a product", responses=responses(401, 404)
    )
    def retrieve_a_product(product_id: str, caller: Caller) -> ProductObject:
        with database.transaction() as session:
            return product_object(get_product(session=session, merchant_id=caller.merchant_id, product_id=product_id))

    @router.patch(
        "/products/{product_id}", tags=["Products"], summary="Update a product", responses=responses(401, 404, 422)
    )
    def update_a_product(product_id: str, body: ProductUpdate, caller: Caller) -> ProductObject:
        with database.transaction() as session:
            product = update_product(
                session=session,
                merchant_id=caller.merchant_id,
                product_id=product_id,
                name=body.name,
                description=body.description,
                active=body.active,
                actor=API_ACTOR,
                clock=clock,
            )
        return product_object(product)

    @router.get("/products", tags=["Products"], summary="List products, newest first", responses=responses(401, 404))
    def list_products(
        caller: Caller, active: bool | None = None, limit: Limit = DEFAULT_LIMIT, starting_after: After = None
    ) -> ListObject[ProductObject]:
        with database.transaction() as session:
            return list_product_objects(
                session=session,
                merchant_id=caller.merchant_id,
                active=active,
                limit=limit,
                starting_after=starting_after,
            )

    @router.post(
        "/prices",
        tags=["Prices"],
        status_code=status.HTTP_201_CREATED,
        response_model=PriceObject,
        summary="Create a price",
        responses=responses(401, 422),
    )
    def create_a_price(body: PriceCreate, post: Post) -> Response:
        terms = PriceTerms(
            unit_amount=body.unit_amount,
            currency=body.currency,
            interval=body.interval,
            interval_count=body.interval_count,
            nickname=body.nickname,
            active=body.active,
        )

        def created() -> PriceObject:
            with database.transaction() as session:
                price = create_price(
                    session=session,
                    merchant_id=post.caller.merchant_id,
                    product_id=body.product,
                    terms=terms,
                    actor=API_ACTOR,
                    clock=clock,
                )
                return price_object(session, post.caller.merchant_id, price.id)

        return post.respond(status.HTTP_201_CREATED, created)

    @router.get("/prices/{price_id}", tags=["Prices"], summary="Retrieve a price", responses=responses(401, 404))
    def retrieve_a_price(price_id: str, caller: Caller) -> PriceObject:
        with database.transaction() as session:
            return price_object(session, caller.merchant_id, price_id)

    @router.patch("/prices/{price_id}", tags=["Prices"], summary="Update a price", responses=responses(401, 404, 422))
    def update_a_price(price_id: str, body: PriceUpdate, caller: Caller) -> PriceObject:
        with database.transaction() as session:
            update_price(
                session=session,
                merchant_id=caller.merchant_id,
                price_id=price_id,
                nickname=body.nickname,
                active=body.active,
                actor=API_ACTOR,
                clock=clock,
            )
            return price_object(session, caller.merchant_id, price_id)

    @router.get("/prices", tags=["Prices"], summary="List prices, newest first", responses=responses(401, 404))
    def list_prices(
        caller: Caller,
        product: Annotated[str | None, Query(max_length=32, description="Only this product's prices.")] = None,
        active: bool | None = None,
        limit: Limit = DEFAULT_LIMIT,
        starting_after: After = None,
    ) -> ListObject[PriceObject]:
        with database.transaction() as session:
            return list_price_objects(
                session=session,
                merchant_id=caller.merchant_id,
                product_id=product,
                active=active,
                limit=limit,
                starting_after=starting_after,
            )

    return router
