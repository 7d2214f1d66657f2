"""Payment routes: the card element's script, the gateway's own routes (test gateway) and its webhook endpoint."""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request, Response
from nicegui import app, run

from app.context import AppContext
from app.errors import Unavailable
from app.gateways.base import GatewayEvent, InvalidWebhook
from app.services.payments import WEBHOOK_PATH, apply_gateway_events
from components.portal.card_element import SCRIPT_FILE, SCRIPT_URL

log = logging.getLogger(__name__)


def register(context: AppContext) -> None:
    gateway = context.gateway
    app.add_static_file(local_file=SCRIPT_FILE, url_path=SCRIPT_URL)
    if (router := gateway.router()) is not None:
        app.include_router(router)

    @app.post(WEBHOOK_PATH.format(gateway="{name}"), include_in_schema=False)
    async def gateway_webhook(name: str, request: Request) -> Response:
        """The gateway's events (Stripe: payment_intent.succeeded / .payment_failed, payment_method.detached)."""
        if name != gateway.name or not gateway.sends_webhooks:
            raise HTTPException(status_code=404)
        payload = await request.body()  # the raw bytes: the signature is over them
        try:
            events = gateway.webhook_events(payload=payload, headers=request.headers)
        except InvalidWebhook as invalid:
            log.warning("Refused a %s webhook: %s", name, invalid)
            raise HTTPException(status_code=400) from None
        try:
            applied = await _apply(context, events)
        except Unavailable:
            raise HTTPException(status_code=503, headers={"Retry-After": "5"}) from None
        return Response(f'{{"received": true, "applied": {applied}}}', media_type="application/json")


async def _apply(context: AppContext, events: tuple[GatewayEvent, ...]) -> int:
    return await run.io_bound(
        apply_gateway_events, database=context.database, gateway=context.gateway, events=events, now=context.clock()
    )
