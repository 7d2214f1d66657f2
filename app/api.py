"""REST API for integrations: `POST /api/v1/portal_sessions` gives a customer a portal link (see /docs)."""

# No `from __future__ import annotations`: FastAPI reads the route signatures, which name a local dependency.
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.context import AppContext
from app.enums import EventSource, PortalFlow
from app.errors import NotFound, ValidationFailed
from app.services.api_keys import ApiCaller, authenticate_api_key
from app.services.api_objects import PortalSessionObject
from app.services.events import Actor
from app.services.portal.flows import check_task, task_query
from app.services.portal_links import PortalAccess, get_portal_session, issue_link
from app.validation import check_https_url

API_ACTOR = Actor(source=EventSource.API)
_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Send a valid API key as `Authorization: Bearer sk_…` (create one under Account details).",
    headers={"WWW-Authenticate": "Bearer"},
)


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


class ErrorMessage(BaseModel):
    detail: str


class FlowRefused(Exception):
    """The requested flow does not fit the customer (rolls the new link back with it)."""


def build_router(context: AppContext) -> APIRouter:
    """The `/api/v1` routes, bound to the app's database, settings and clock."""
    router = APIRouter(prefix="/api/v1", tags=["Portal sessions"])
    bearer = HTTPBearer(auto_error=False, description="A secret API key from Account details (`sk_…`).")

    def api_caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> ApiCaller:
        if credentials is None:
            raise _UNAUTHORIZED
        with context.database.transaction() as session:
            caller = authenticate_api_key(session=session, secret=credentials.credentials, clock=context.clock)
        if caller is None:
            raise _UNAUTHORIZED
        return caller

    @router.post(
        "/portal_sessions",
        status_code=status.HTTP_201_CREATED,
        summary="Create a portal link for a customer",
        responses={
            status.HTTP_401_UNAUTHORIZED: {"model": ErrorMessage, "description": "Missing, wrong or revoked key"},
            status.HTTP_400_BAD_REQUEST: {"model": ErrorMessage, "description": "A flow that does not fit"},
            status.HTTP_404_NOT_FOUND: {"model": ErrorMessage, "description": "No such customer for this key"},
        },
    )
    def create_portal_session(
        body: PortalSessionCreate, caller: Annotated[ApiCaller, Depends(api_caller)]
    ) -> PortalSessionObject:
        try:
            with context.database.transaction() as session:
                link = issue_link(
                    session=session,
                    settings=context.settings,
                    merchant_id=caller.merchant_id,
                    customer_id=body.customer,
                    created_by=f"api:{caller.key_id}",
                    return_url=body.return_url or "",
                    actor=API_ACTOR,
                    clock=context.clock,
                )
                url = link.url
                if body.flow is not None:
                    # Checked like the portal checks it: the customer's own object, with the feature switched on.
                    access = PortalAccess(
                        link_id=link.id, merchant_id=caller.merchant_id, customer_id=body.customer, return_url=""
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
                        raise FlowRefused(f"No such {missing} for this customer.") from None
                    except ValidationFailed as failed:
                        raise FlowRefused(" ".join(failed.field_errors.values())) from None
                    url += task_query(task)
                return get_portal_session(
                    session=session, merchant_id=caller.merchant_id, link_id=link.id, url=url, clock=context.clock
                )
        except FlowRefused as refused:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(refused)) from None
        except NotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No such customer: {body.customer}") from None

    return router
