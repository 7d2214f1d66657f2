"""`/api/v1/customers`: create, retrieve, update, delete (soft) and list the merchant's customers."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.errors import ApiRoute, responses
from app.api.requests import API_ACTOR, CallerDependency, IdempotentPost
from app.context import AppContext
from app.services.api_keys import ApiCaller
from app.services.api_lists import DEFAULT_LIMIT, MAX_LIMIT
from app.services.api_objects import CustomerObject, ListObject
from app.services.customer_records import (
    create_customer,
    customer_json,
    customer_page,
    delete_customer,
    update_customer,
)
from app.views import Address
from app.views.inputs import CustomerInput, ShippingDetails


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressInput(_Input):
    line1: str = Field(default="", max_length=200)
    line2: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=40)
    state: str = Field(default="", max_length=200)
    country: str = Field(default="", max_length=10, description="ISO 3166-1 alpha-2 code.", examples=["DE"])

    def to_address(self) -> Address:
        return Address(**self.model_dump())


class ShippingInput(_Input):
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    address: AddressInput


class TaxIdInput(_Input):
    type: str = Field(max_length=20, description="eu_vat, gb_vat, ch_vat, us_ein, ca_bn, au_abn, cn_tin or jp_cn.")
    value: str = Field(max_length=60, examples=["DE123456789"])


class CustomerFields(_Input):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, description="With its country code: +1 415 555 0100.")
    locale: str | None = Field(
        default=None, max_length=35, description="The portal's language: en_US, de_DE, fr_FR or zh_Hans_CN."
    )
    address: AddressInput | None = Field(default=None, description="The billing address.")
    shipping: ShippingInput | None = None
    tax_id: TaxIdInput | None = None
    metadata: dict[str, str] | None = Field(
        default=None, description="Up to 50 keys of 40 characters with values of 500; replaced as a whole."
    )

    def to_input(self, email: str | None) -> CustomerInput:
        """The fields sent; null for an optional one removes it (an empty address, shipping, tax ID, metadata)."""
        sent = self.model_fields_set
        tax_id = self.tax_id or TaxIdInput(type="", value="")
        return CustomerInput(
            email=email,
            name=self.name or "" if "name" in sent else None,
            phone=self.phone or "" if "phone" in sent else None,
            locale=self.locale or "" if "locale" in sent else None,
            address=(self.address.to_address() if self.address else Address()) if "address" in sent else None,
            shipping=(
                ShippingDetails(self.shipping.name, self.shipping.phone, self.shipping.address.to_address())
                if self.shipping
                else ShippingDetails()
            )
            if "shipping" in sent
            else None,
            tax_id_type=tax_id.type if "tax_id" in sent else None,
            tax_id_value=tax_id.value if "tax_id" in sent else None,
            metadata=(self.metadata or {}) if "metadata" in sent else None,
        )


class CustomerCreate(CustomerFields):
    """A new customer; the email is required and unique among your customers."""

    email: str = Field(max_length=254, examples=["jenny.rosen@example.com"])


class CustomerUpdate(CustomerFields):
    """The fields to change; those left out stay as they are."""

    email: str | None = Field(default=None, max_length=254)


def build_customers_router(
    context: AppContext, api_caller: CallerDependency, idempotent_post: Callable[..., object]
) -> APIRouter:
    router = APIRouter(prefix="/customers", tags=["Customers"], route_class=ApiRoute)
    database, clock = context.database, context.clock
    Caller = Annotated[ApiCaller, Depends(api_caller)]  # noqa: N806 - a type alias

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=CustomerObject,
        summary="Create a customer",
        responses=responses(401, 409, 422),
    )
    def create(body: CustomerCreate, post: Annotated[IdempotentPost, Depends(idempotent_post)]) -> Response:
        def created() -> CustomerObject:
            with database.writer_turn(), database.transaction() as session:
                return create_customer(
                    session=session,
                    merchant_id=post.caller.merchant_id,
                    details=body.to_input(body.email),
                    actor=API_ACTOR,
                    clock=clock,
                )

        return post.respond(status.HTTP_201_CREATED, created)

    @router.get(
        "/{customer_id}", response_model=CustomerObject, summary="Retrieve a customer", responses=responses(401, 404)
    )
    def retrieve(customer_id: str, caller: Caller) -> dict[str, Any]:
        with database.transaction() as session:
            return customer_json(session=session, merchant_id=caller.merchant_id, customer_id=customer_id)

    @router.patch("/{customer_id}", summary="Update a customer", responses=responses(401, 404, 409, 422))
    def update(customer_id: str, body: CustomerUpdate, caller: Caller) -> CustomerObject:
        email = (body.email or "") if "email" in body.model_fields_set else None
        with database.transaction() as session:
            return update_customer(
                session=session,
                merchant_id=caller.merchant_id,
                customer_id=customer_id,
                details=body.to_input(email),
                actor=API_ACTOR,
                clock=clock,
            )

    @router.delete(
        "/{customer_id}",
        summary="Delete a customer: portal links stop working, live subscriptions end, history is kept",
        responses=responses(401, 404),
    )
    def delete(customer_id: str, caller: Caller) -> CustomerObject:
        with database.transaction() as session:
            return delete_customer(
                session=session, merchant_id=caller.merchant_id, customer_id=customer_id, actor=API_ACTOR, clock=clock
            )

    @router.get(
        "",
        response_model=ListObject[CustomerObject],
        summary="List customers, newest first",
        responses=responses(401, 404, 422),
    )
    def list_customers(
        caller: Caller,
        email: Annotated[str | None, Query(max_length=254, description="Only customers with this email.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        starting_after: Annotated[
            str | None, Query(max_length=32, description="The last customer of the previous page.")
        ] = None,
    ) -> dict[str, Any]:
        with database.transaction() as session:
            return customer_page(
                session=session,
                merchant_id=caller.merchant_id,
                email=email,
                limit=limit,
                starting_after=starting_after,
            )

    return router
