"""REST API for integrations under `/api/v1` (documented at /docs): customers, subscriptions, invoices, payment
methods and portal sessions, one module per resource; `errors` has the one error shape, `requests` the key check and
idempotent `POST`s that every module's routes use."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.catalog import build_catalog_router
from app.api.customers import build_customers_router
from app.api.invoices import build_invoices_router
from app.api.portal_sessions import build_portal_sessions_router
from app.api.requests import caller_dependency, idempotency_dependency
from app.api.subscriptions import build_subscriptions_router
from app.context import AppContext


def build_router(context: AppContext) -> APIRouter:
    """The `/api/v1` routes, bound to the app's database, settings, payment gateway and clock."""
    api_caller = caller_dependency(context)
    idempotent_post = idempotency_dependency(context, api_caller)
    router = APIRouter(prefix="/api/v1")
    router.include_router(build_customers_router(context, api_caller, idempotent_post))
    router.include_router(build_catalog_router(context, api_caller, idempotent_post))
    router.include_router(build_subscriptions_router(context, api_caller, idempotent_post))
    router.include_router(build_invoices_router(context, api_caller))
    router.include_router(build_portal_sessions_router(context, idempotent_post))
    return router
