"""Routes: every `@ui.page` lives below this package; `register()` wires them to the app context."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute

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


def register(context: AppContext, api_routes: Sequence[BaseRoute]) -> None:
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
    api_docs.register(api_routes)
