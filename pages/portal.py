"""`/portal/{token}`: the customer portal behind a signed link, and the invoice PDF download it offers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from nicegui import Client, app, ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.errors import Forbidden, LinkError, LinkExpired, NotFound, Unavailable
from app.gateways.base import PaymentGateway, customer_message
from app.i18n import N_, is_supported
from app.services import payments, portal
from app.services.events import Actor
from app.services.invoice_pdf import render_invoice_pdf
from app.services.portal.email_change import cancel_email_change, resend_email_change
from app.services.portal.flows import resolve_task
from app.services.portal_links import PortalAccess, continue_sign_in, open_link
from app.views import (
    BillingDetailsInput,
    CardSetupView,
    ChargeOutcome,
    CustomerPortalData,
    InvoicePage,
    InvoiceView,
    PaymentAuthentication,
    ProrationView,
    RetentionOfferView,
    ShippingInput,
    SubscriptionView,
)
from components.portal import portal_view
from components.portal.card_element import head_html
from components.portal.invoices import pdf_filename
from components.theme import portal_frame
from pages.actors import portal_actor
from pages.errors import show_unavailable
from pages.link_problem import show_link_problem
from server.nicegui_internals import set_page_language, switch_page_language

T = TypeVar("T")
LINK_ENDED_MESSAGE = N_("This link has expired. Ask the business that sent it to you for a new link.")
LINK_REVOKED_MESSAGE = N_("This link is no longer valid. Ask the business that sent it to you for a new link.")


class LiveActions:
    """The portal's actions for one verified link: each call re-verifies the link and runs in one transaction.

    Re-verifying means a link the merchant revokes (or that expires) stops working on pages already open.
    """

    def __init__(self, context: AppContext, token: str, actor: Actor, gateway: PaymentGateway) -> None:
        self._context = context
        self._token = token
        self._actor = actor
        self._gateway = gateway
        self.locale = ""  # the portal's language: mails about an email change are written in it

    @contextmanager
    def _session(self) -> Iterator[tuple[Session, PortalAccess, Actor]]:
        context = self._context
        with context.database.transaction() as session:
            try:
                access = open_link(
                    session=session,
                    settings=context.settings,
                    token=self._token,
                    actor=self._actor,
                    clock=context.clock,
                )
            except LinkExpired:
                raise Forbidden(LINK_ENDED_MESSAGE) from None
            except LinkError:
                raise Forbidden(LINK_REVOKED_MESSAGE) from None
            yield session, access, replace(self._actor, portal_link_id=access.link_id)

    def _verified(self) -> tuple[PortalAccess, Actor]:
        """The link checked in a short transaction of its own, for actions that talk to the gateway outside one."""
        with self._session() as (_, access, actor):
            return access, actor

    def _write(self, action: Callable[..., T], **arguments: object) -> T:
        with self._session() as (session, access, actor):
            return action(session=session, access=access, actor=actor, clock=self._context.clock, **arguments)

    def reload(self) -> CustomerPortalData:
        with self._session() as (session, access, _):
            return portal.load_portal_data(session=session, access=access)

    def list_invoices(self, status: str | None, page: int) -> InvoicePage:
        with self._session() as (session, access, _):
            return portal.list_invoices(session=session, access=access, status=status, page=page)

    def get_invoice(self, invoice_id: str) -> InvoiceView:
        with self._session() as (session, access, _):
            return portal.get_invoice(session=session, access=access, invoice_id=invoice_id)

    def invoice_pdf(self, invoice_id: str, locale: str) -> bytes:
        with self._session() as (session, access, _):
            return render_invoice_pdf(session=session, access=access, invoice_id=invoice_id, locale=locale)

    def pay_invoice(self, invoice_id: str) -> ChargeOutcome:
        access, actor = self._verified()
        return payments.pay_invoice(
            database=self._context.database,
            access=access,
            invoice_id=invoice_id,
            gateway=self._gateway,
            actor=actor,
            clock=self._context.clock,
        )

    def payment_authentication(self, invoice_id: str) -> PaymentAuthentication:
        with self._session() as (session, access, _):
            return payments.payment_authentication(
                session=session, access=access, invoice_id=invoice_id, gateway=self._gateway
            )

    def complete_payment(self, invoice_id: str, confirmation: str) -> ChargeOutcome:
        access, actor = self._verified()
        return payments.complete_payment(
            database=self._context.database,
            access=access,
            invoice_id=invoice_id,
            confirmation=confirmation,
            gateway=self._gateway,
            actor=actor,
            clock=self._context.clock,
        )

    def cancel_subscription(self, subscription_id: str, reason: str, comment: str) -> None:
        self._write(portal.cancel_subscription, subscription_id=subscription_id, reason=reason, comment=comment)

    def undo_cancellation(self, subscription_id: str) -> None:
        self._write(portal.undo_cancellation, subscription_id=subscription_id)

    def preview_plan_change(self, subscription_id: str, price_id: str, quantity: int) -> ProrationView:
        with self._session() as (session, access, _):
            return portal.preview_plan_change(
                session=session,
                access=access,
                subscription_id=subscription_id,
                price_id=price_id,
                quantity=quantity,
                clock=self._context.clock,
            )

    def change_plan(self, subscription_id: str, price_id: str, quantity: int) -> SubscriptionView:
        return self._write(portal.change_plan, subscription_id=subscription_id, price_id=price_id, quantity=quantity)

    def cancel_scheduled_change(self, subscription_id: str) -> None:
        self._write(portal.cancel_scheduled_change, subscription_id=subscription_id)

    def pause_subscription(self, subscription_id: str, duration: str) -> None:
        self._write(portal.pause_subscription, subscription_id=subscription_id, duration=duration)

    def resume_subscription(self, subscription_id: str) -> None:
        self._write(portal.resume_subscription, subscription_id=subscription_id)

    def resubscribe(self, subscription_id: str, price_id: str | None) -> ChargeOutcome:
        access, actor = self._verified()
        return portal.resubscribe(
            database=self._context.database,
            access=access,
            subscription_id=subscription_id,
            price_id=price_id,
            gateway=self._gateway,
            actor=actor,
            clock=self._context.clock,
        )

    def make_retention_offer(self, subscription_id: str) -> RetentionOfferView | None:
        return self._write(portal.make_retention_offer, subscription_id=subscription_id)

    def accept_retention_offer(self, subscription_id: str) -> None:
        self._write(portal.accept_retention_offer, subscription_id=subscription_id)

    def start_card_setup(self) -> CardSetupView:
        with self._session() as (session, access, _):
            return payments.start_card_setup(session=session, access=access, gateway=self._gateway)

    def add_card(self, setup_result: str, cardholder_name: str, make_default: bool) -> None:
        self._write(
            payments.add_card,
            setup_result=setup_result,
            cardholder_name=cardholder_name,
            gateway=self._gateway,
            make_default=make_default,
        )

    def card_error(self, code: str, decline_code: str) -> str:
        return customer_message(code, decline_code)

    def set_default_card(self, payment_method_id: str) -> None:
        self._write(payments.set_default_card, payment_method_id=payment_method_id)

    def remove_card(self, payment_method_id: str) -> None:
        self._write(payments.remove_card, payment_method_id=payment_method_id, gateway=self._gateway)

    def update_billing_details(self, details: BillingDetailsInput) -> None:
        settings = self._context.settings
        self._write(portal.update_billing_details, details=details, settings=settings, locale=self.locale)

    def resend_email_change(self) -> None:
        with self._session() as (session, access, _):
            resend_email_change(
                session=session, settings=self._context.settings, access=access, clock=self._context.clock
            )

    def cancel_email_change(self) -> None:
        with self._session() as (session, access, _):
            cancel_email_change(session=session, access=access, clock=self._context.clock)

    def update_shipping(self, shipping: ShippingInput) -> None:
        self._write(portal.update_shipping, shipping=shipping)


def remember_locale(client: Client, locale: str) -> None:
    """Put the chosen language in the address (no reload, no new history entry), so a reload keeps it, and in
    `<html lang>`, so that assistive technology reads the page in it.

    In the page's own context: the switch that asked has just been rebuilt away, and script sent from a deleted
    element's slot never runs.
    """
    with client:
        ui.navigate.history.replace(f"?{urlencode({'lang': locale})}")
    switch_page_language(client, locale)


def register(context: AppContext) -> None:
    gateway = context.gateway

    @ui.page("/portal/{token}", title="Customer portal")
    def portal_page(
        token: str, request: Request, lang: str = "", flow: str = "", subscription: str = "", invoice: str = ""
    ) -> Response | None:
        """`lang`: the language the customer last chose with the switch (kept in the address across reloads).
        `flow` (with `subscription` or `invoice`): a deep link's task, opened at once when it is the customer's."""
        actor = portal_actor(request)
        try:
            with context.database.transaction() as session:
                access = open_link(
                    session=session, settings=context.settings, token=token, actor=actor, clock=context.clock
                )
                if access.single_use:  # a sign-in link, now used up: the portal continues on a link of its own
                    link = continue_sign_in(
                        session=session, settings=context.settings, access=access, actor=actor, clock=context.clock
                    )
                    return RedirectResponse(urlsplit(link.url).path, status_code=303)
                view = portal.load_portal_view(
                    session=session,
                    access=access,
                    locale=lang if is_supported(lang) else None,
                    accept_language=request.headers.get("accept-language", ""),
                )
                task = resolve_task(
                    session=session, access=access, flow=flow, subscription=subscription, invoice=invoice
                )
        except LinkError as error:
            show_link_problem(context, error)
            return
        except Unavailable:  # customers get the explanation without an error in the logs for every retry
            show_unavailable()
            return
        set_page_language(view.locale)
        ui.add_head_html(head_html(payments.card_element(gateway)))
        actions = LiveActions(context, token, actor, gateway)
        actions.locale = view.locale
        with portal_frame(view):
            client = ui.context.client
            portal_view(
                replace(view, task=task),
                actions,
                on_locale=lambda locale: remember_locale(client, locale),
            )

    @app.get("/portal/{token}/invoices/{invoice_id}/pdf", include_in_schema=False)
    def invoice_pdf(token: str, invoice_id: str, request: Request, locale: str = "en_US") -> Response:
        """The PDF of one of the link's customer's invoices; 404 for a bad link or anyone else's invoice."""
        actions = LiveActions(context, token, portal_actor(request), gateway)
        try:
            invoice = actions.get_invoice(invoice_id)
            pdf = actions.invoice_pdf(invoice_id, locale)
        except (Forbidden, NotFound):
            raise HTTPException(status_code=404) from None
        except Unavailable:
            raise HTTPException(status_code=503, headers={"Retry-After": "5"}) from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{pdf_filename(invoice)}"'},
        )
