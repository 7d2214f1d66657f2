"""`/api/v1/subscriptions`: start, retrieve, change, cancel and list the merchant's subscriptions."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.errors import ApiRoute, responses
from app.api.requests import API_ACTOR, CallerDependency, IdempotentPost
from app.context import AppContext
from app.enums import SubscriptionStatus
from app.services.api_keys import ApiCaller
from app.services.api_lists import DEFAULT_LIMIT, MAX_LIMIT
from app.services.api_objects import ListObject, SubscriptionObject
from app.services.subscription_records import (
    cancel_subscription_now,
    get_subscription,
    list_subscription_objects,
    start_subscription,
    update_subscription,
)
from app.views.inputs import SubscriptionInput, SubscriptionItemInput


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemInput(_Input):
    price: str = Field(max_length=32, description="One of your active prices (`price_…`).")
    quantity: int = Field(default=1, description="1 to 1,000.")


class SubscriptionCreate(_Input):
    """A new subscription. Without a trial its first invoice is charged to the customer's default card at once."""

    customer: str = Field(max_length=32, examples=["cus_3kT9aQ2x"])
    items: list[ItemInput] = Field(max_length=20, description="Prices in one currency and billing interval.")
    trial_period_days: int | None = Field(default=None, description="A trial of 1 to 730 days.")
    trial_end: datetime | None = Field(default=None, description="Or the moment the trial ends (ISO 8601).")
    cancel_at_period_end: bool = False


class SubscriptionUpdate(_Input):
    """What to change; a new price or quantity is prorated as in the portal (an invoice for what is due now)."""

    price: str | None = Field(default=None, max_length=32, description="The new price of the (only) item.")
    quantity: int | None = Field(default=None, description="The new quantity of the (only) item.")
    cancel_at_period_end: bool | None = None


def build_subscriptions_router(
    context: AppContext, api_caller: CallerDependency, idempotent_post: Callable[..., object]
) -> APIRouter:
    router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"], route_class=ApiRoute)
    database, clock = context.database, context.clock
    Caller = Annotated[ApiCaller, Depends(api_caller)]  # noqa: N806 - a type alias

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=SubscriptionObject,
        summary="Start a subscription: trialing, active once its first invoice is paid, or incomplete",
        responses=responses(401, 404, 409, 422),
    )
    def create(body: SubscriptionCreate, post: Annotated[IdempotentPost, Depends(idempotent_post)]) -> Response:
        details = SubscriptionInput(
            customer_id=body.customer,
            items=tuple(SubscriptionItemInput(price_id=item.price, quantity=item.quantity) for item in body.items),
            trial_period_days=body.trial_period_days,
            trial_end=body.trial_end,
            cancel_at_period_end=body.cancel_at_period_end,
        )
        return post.respond(
            status.HTTP_201_CREATED,
            lambda: start_subscription(
                database=database,
                merchant_id=post.caller.merchant_id,
                subscription=details,
                gateway=context.gateway,
                actor=API_ACTOR,
                clock=clock,
            ),
        )

    @router.get("/{subscription_id}", summary="Retrieve a subscription", responses=responses(401, 404))
    def retrieve(subscription_id: str, caller: Caller) -> SubscriptionObject:
        with database.transaction() as session:
            return get_subscription(session=session, merchant_id=caller.merchant_id, subscription_id=subscription_id)

    @router.patch(
        "/{subscription_id}",
        summary="Change the price, quantity or cancel_at_period_end",
        responses=responses(401, 404, 409, 422),
    )
    def update(subscription_id: str, body: SubscriptionUpdate, caller: Caller) -> SubscriptionObject:
        with database.transaction() as session:
            return update_subscription(
                session=session,
                merchant_id=caller.merchant_id,
                subscription_id=subscription_id,
                price_id=body.price,
                quantity=body.quantity,
                cancel_at_period_end=body.cancel_at_period_end,
                actor=API_ACTOR,
                clock=clock,
            )

    @router.delete("/{subscription_id}", summary="Cancel a subscription now", responses=responses(401, 404))
    def cancel(subscription_id: str, caller: Caller) -> SubscriptionObject:
        with database.transaction() as session:
            return cancel_subscription_now(
                session=session,
                merchant_id=caller.merchant_id,
                subscription_id=subscription_id,
                actor=API_ACTOR,
                clock=clock,
            )

    @router.get("", summary="List subscriptions, newest first", responses=responses(401, 404, 422))
    def list_subscriptions(
        caller: Caller,
        customer: Annotated[str | None, Query(max_length=32, description="Only this customer's.")] = None,
        status: Annotated[SubscriptionStatus | None, Query(description="Only those in this status.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        starting_after: Annotated[
            str | None, Query(max_length=32, description="The last subscription of the previous page.")
        ] = None,
    ) -> ListObject[SubscriptionObject]:
        with database.transaction() as session:
            return list_subscription_objects(
                session=session,
                merchant_id=caller.merchant_id,
                customer_id=customer,
                status=status,
                limit=limit,
                starting_after=starting_after,
            )

    return router
