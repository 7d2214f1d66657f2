"""`POST /api/v1/portal_sessions`: a portal link for one of the merchant's customers, optionally at one task."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from app.api.errors import ApiError, ApiRoute, responses
from app.api.requests import API_ACTOR, IdempotentPost
from app.context import AppContext
from app.enums import PortalFlow
from app.errors import NotFound, ValidationFailed
from app.services.api_objects import PortalSessionObject
from app.services.portal.flows import check_task, task_query
from app.services.portal_links import PortalAccess, get_portal_session, issue_link
from app.validation import check_https_url


class PortalFlowData(BaseModel):
    """Open the portal at one task, like Stripe's `flow_data` (the link's address gets `?flow=…`)."""

    model_config = ConfigDict(extra="forbid")

    type: PortalFlow = Field(description="The task the portal opens at.")
    subscription: str | None = Field(
        default=None, max_length=32, description="For `subscription_cancel`: the customer's subscription (`sub_…`)."
    )
    invoice: str | None = Field(
        default=None, max_length=32, description="For `invoice`: the customer's invoice to view or pay (`in_…`)."
    )


class PortalSessionCreate(BaseModel):
    """Create a portal link for one of your customers."""

    model_config = ConfigDict(extra="forbid")

    customer: str = Field(min_length=1, max_length=32, description="The customer's id.", examples=["cus_3kT9aQ2x"])
    return_url: str | None = Field(
        default=None,
        max_length=300,
        description="Where the portal's back link goes; https only. Defaults to the portal settings' return URL.",
        examples=["https://example.com/account"],
    )
    flow: PortalFlowData | None = Field(default=None, description="Open the portal at one task instead of its start.")

    @field_validator("return_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        if value is not None and (error := check_https_url(value)):
            raise PydanticCustomError("https_url", error)
        return value


def build_portal_sessions_router(context: AppContext, idempotent_post: Callable[..., object]) -> APIRouter:
    router = APIRouter(tags=["Portal sessions"], route_class=ApiRoute)

    @router.post(
        "/portal_sessions",
        status_code=status.HTTP_201_CREATED,
        response_model=PortalSessionObject,
        summary="Create a portal link for a customer",
        responses={
            status.HTTP_400_BAD_REQUEST: {"model": ApiError, "description": "A flow that does not fit the customer"},
            **responses(401, 404, 409, 422),
        },
    )
    def create_portal_session(
        body: PortalSessionCreate, post: Annotated[IdempotentPost, Depends(idempotent_post)]
    ) -> Response:
        def create() -> PortalSessionObject:
            with context.database.transaction() as session:
                try:
                    link = issue_link(
                        session=session,
                        settings=context.settings,
                        merchant_id=post.caller.merchant_id,
                        customer_id=body.customer,
                        created_by=f"api:{post.caller.key_id}",
                        return_url=body.return_url or "",
                        actor=API_ACTOR,
                        clock=context.clock,
                    )
                except NotFound:
                    raise NotFound("customer", param="customer") from None
                url = link.url if body.flow is None else link.url + _flow_query(session, link.id, post, body)
                return get_portal_session(
                    session=session, merchant_id=post.caller.merchant_id, link_id=link.id, url=url, clock=context.clock
                )

        return post.respond(status.HTTP_201_CREATED, create)

    return router


def _flow_query(session: Session, link_id: str, post: IdempotentPost, body: PortalSessionCreate) -> str:
    """The link's `?flow=…`, checked like the portal checks it: the customer's own object, the feature switched on.
    A flow that does not fit is a 400, and the new link is rolled back with the request."""
    assert body.flow is not None  # noqa: S101 - only called with a flow
    access = PortalAccess(
        link_id=link_id, merchant_id=post.caller.merchant_id, customer_id=body.customer, return_url=""
    )
    try:
        task = check_task(
            session=session,
            access=access,
            flow=body.flow.type,
            subscription=body.flow.subscription or "",
            invoice=body.flow.invoice or "",
        )
    except NotFound as missing:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"No such {missing} for this customer.") from None
    except ValidationFailed as failed:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, " ".join(failed.field_errors.values())) from None
    return task_query(task)
