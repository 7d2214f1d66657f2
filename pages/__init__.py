"""Routes: every `@ui.page` lives below this package; `register()` wires them to the app context."""

from __future__ import annotations

from nicegui import app

from app import api
from app.context import AppContext
from components.theme import install_styles
from pages import api_docs, errors, health, media, payments, portal, portal_sign_in
from pages.merchant import (
    account,
    activity,
    auth,
    billing,
    branding,
    customers,
    developers,
    emails,
    login,
    portal_settings,
    products,
)


def register(context: AppContext) -> None:
    install_styles()
    auth.register(context)
    errors.register(context)
    health.register(context)
    media.register(context)
    login.register(context)
    account.register(context)
    customers.register(context)
    products.register(context)
    emails.register(context)
    portal.register(context)
    portal_sign_in.register(context)
    payments.register(context)
    portal_settings.register(context)
    branding.register(context)
    activity.register(context)
    billing.register(context)
    developers.register(context)
    app.include_router(api.build_router(context))
    api_docs.register(context)
