"""Choosing the payment gateway: one factory, Stripe's keys required, and exactly its origins in the CSP."""

from __future__ import annotations

import pytest

from app.config import ConfigurationError, Settings, load_settings
from app.gateways import build_gateway
from server.security_headers import CONTENT_SECURITY_POLICY, content_security_policy
from tests.conftest import TEST_SECRET_KEY
from tests.payment_support import STRIPE_KEYS

STRIPE = {"payment_gateway": "stripe", **{key.lower(): value for key, value in STRIPE_KEYS.items()}}


def _settings(**values: object) -> Settings:
    return load_settings(secret_key=TEST_SECRET_KEY, _env_file=None, **values)


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split("; "))}


def test_the_test_gateway_is_the_default_and_needs_no_other_origin() -> None:
    gateway = build_gateway(_settings())
    assert (gateway.name, gateway.script_url, gateway.sends_webhooks) == ("test", "", False)
    assert content_security_policy(gateway.browser_sources()) == CONTENT_SECURITY_POLICY
    directives = _directives(CONTENT_SECURITY_POLICY)
    assert directives["connect-src"] == directives["frame-src"] == ["'self'"]


def test_stripe_adds_exactly_stripe_js_its_frames_and_api() -> None:
    gateway = build_gateway(_settings(**STRIPE))
    assert (gateway.name, gateway.script_url, gateway.publishable_key) == (
        "stripe",
        "https://js.stripe.com/v3/",
        "pk_test_portal",
    )
    directives = _directives(content_security_policy(gateway.browser_sources()))
    assert directives["script-src"] == ["'self'", "'unsafe-inline'", "'unsafe-eval'", "https://js.stripe.com"]
    assert directives["frame-src"] == ["'self'", "https://js.stripe.com", "https://hooks.stripe.com"]
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com"]


def test_a_stand_in_stripe_js_is_allowed_from_its_own_origin_only() -> None:
    gateway = build_gateway(
        _settings(
            **STRIPE, stripe_api_base="http://127.0.0.1:8420", stripe_js_url="http://127.0.0.1:8420/js.stripe.com/v3/"
        )
    )
    assert gateway.script_is_stand_in
    directives = _directives(content_security_policy(gateway.browser_sources()))
    for name in ("script-src", "frame-src", "connect-src"):
        assert directives[name][-1] == "http://127.0.0.1:8420" and "https://js.stripe.com" not in directives[name]


@pytest.mark.parametrize("missing", ["stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret"])
def test_stripe_without_its_keys_stops_start_up_naming_them(missing: str) -> None:
    with pytest.raises(ConfigurationError, match=missing.upper()):
        _settings(**{**STRIPE, missing: ""})


def test_an_unknown_gateway_stops_start_up() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENT_GATEWAY"):
        _settings(payment_gateway="paypal")
