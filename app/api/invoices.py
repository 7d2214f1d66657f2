"""`/api/v1/invoices` and `/api/v1/payment_methods`: read-only; an invoice also as a PDF."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.errors import ApiRoute, responses
from app.api.requests import CallerDependency
from app.context import AppContext
from app.enums import InvoiceStatus
from app.services.api_keys import ApiCaller
from app.services.api_lists import DEFAULT_LIMIT, MAX_LIMIT
from app.services.api_objects import InvoiceObject, ListObject, PaymentMethodObject
from app.services.invoice_records import get_invoice, invoice_pdf, list_invoice_objects, list_payment_method_objects


def build_invoices_router(context: AppContext, api_caller: CallerDependency) -> APIRouter:
    router = APIRouter(route_class=ApiRoute)
    database = context.database
    Caller = Annotated[ApiCaller, Depends(api_caller)]  # noqa: N806 - a type alias

    @router.get(
        "/invoices/{invoice_id}", tags=["Invoices"], summary="Retrieve an invoice", responses=responses(401, 404)
    )
    def retrieve(invoice_id: str, caller: Caller) -> InvoiceObject:
        with database.transaction() as session:
            return get_invoice(session=session, merchant_id=caller.merchant_id, invoice_id=invoice_id)

    @router.get(
        "/invoices/{invoice_id}/pdf",
        tags=["Invoices"],
        summary="An invoice as a PDF",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}, **responses(401, 404)},
    )
    def pdf(
        invoice_id: str,
        caller: Caller,
        locale: Annotated[
            str, Query(max_length=35, description="en_US, de_DE, fr_FR or zh_Hans_CN; default: the customer's.")
        ] = "",
    ) -> Response:
        with database.transaction() as session:
            content = invoice_pdf(session=session, merchant_id=caller.merchant_id, invoice_id=invoice_id, locale=locale)
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{invoice_id}.pdf"'},
        )

    @router.get(
        "/invoices", tags=["Invoices"], summary="List invoices, newest first", responses=responses(401, 404, 422)
    )
    def list_invoices(
        caller: Caller,
        customer: Annotated[str | None, Query(max_length=32, description="Only this customer's.")] = None,
        subscription: Annotated[str | None, Query(max_length=32, description="Only this subscription's.")] = None,
        status: Annotated[InvoiceStatus | None, Query(description="Only those in this status.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        starting_after: Annotated[
            str | None, Query(max_length=32, description="The last invoice of the previous page.")
        ] = None,
    ) -> ListObject[InvoiceObject]:
        with database.transaction() as session:
            return list_invoice_objects(
                session=session,
                merchant_id=caller.merchant_id,
                customer_id=customer,
                subscription_id=subscription,
                status=status,
                limit=limit,
                starting_after=starting_after,
            )

    @router.get(
        "/payment_methods",
        tags=["Payment methods"],
        summary="List a customer's cards, the default first",
        responses=responses(401, 404, 422),
    )
    def list_payment_methods(
        caller: Caller,
        customer: Annotated[str, Query(max_length=32, description="The customer whose cards to list.")],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> ListObject[PaymentMethodObject]:
        with database.transaction() as session:
            return list_payment_method_objects(
                session=session, merchant_id=caller.merchant_id, customer_id=customer, limit=limit
            )

    return router
