"""Card processors behind one seam (`PaymentGateway`); `build_gateway` is the one place that picks and builds one."""

from __future__ import annotations

from app.config import Settings
from app.gateways.base import PaymentGateway
from app.gateways.test_mode import TestGateway


def build_gateway(settings: Settings) -> PaymentGateway:
    """The gateway `PAYMENT_GATEWAY` names: the built-in test gateway (default) or Stripe."""
    if settings.payment_gateway == "stripe":
        from app.gateways.stripe_gateway import StripeGateway  # imports the stripe library only when it is used

        return StripeGateway(
            secret_key=settings.stripe_secret_key,
            publishable_key=settings.stripe_publishable_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            js_url=settings.stripe_js_url,
        )
    return TestGateway(settings.secret_key)
