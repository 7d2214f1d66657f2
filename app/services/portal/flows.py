"""Deep links: a portal link that opens at one task (`?flow=payment_method_update`, `subscription_cancel`, `invoice`).

A task is honoured only when it is the link's customer's own object and the merchant has the feature on; otherwise
the link shows the normal portal (a foreign id is logged by the ownership check, never shown).
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from app.enums import PortalFlow
from app.errors import Forbidden, NotFound, ValidationFailed
from app.services.portal.access import owned_invoice, owned_subscription
from app.services.portal_links import PortalAccess
from app.services.portal_settings import get_portal_settings
from app.views import PortalTask

_FEATURES = {
    PortalFlow.PAYMENT_METHOD_UPDATE: "payment_method_update",
    PortalFlow.SUBSCRIPTION_CANCEL: "cancel_subscriptions",
    PortalFlow.INVOICE: "invoice_history",
}


def check_task(
    *, session: Session, access: PortalAccess, flow: str, subscription: str = "", invoice: str = ""
) -> PortalTask:
    """The task, checked: ValidationFailed for an unknown flow or a feature that is off, NotFound for a foreign id."""
    try:
        kind = PortalFlow(flow)
    except ValueError:
        raise ValidationFailed({"flow": f"Unknown flow; use one of: {', '.join(PortalFlow)}."}) from None
    settings = get_portal_settings(session=session, merchant_id=access.merchant_id)
    if not getattr(settings, _FEATURES[kind]):
        raise ValidationFailed({"flow": "This part of the portal is turned off in the portal settings."})
    if kind == PortalFlow.SUBSCRIPTION_CANCEL:
        owned = owned_subscription(session, access, subscription)
        if owned.status.is_ended or owned.cancel_at_period_end:
            raise ValidationFailed({"subscription": "This subscription is already canceled."})
        return PortalTask(flow=kind, subscription_id=owned.id)
    if kind == PortalFlow.INVOICE:
        return PortalTask(flow=kind, invoice_id=owned_invoice(session, access, invoice).id)
    return PortalTask(flow=kind)


def resolve_task(
    *, session: Session, access: PortalAccess, flow: str, subscription: str = "", invoice: str = ""
) -> PortalTask | None:
    """The task a portal address asks for, or None (show the normal portal) when there is none or it is refused."""
    if not flow:
        return None
    try:
        return check_task(session=session, access=access, flow=flow, subscription=subscription, invoice=invoice)
    except (ValidationFailed, NotFound, Forbidden):
        return None


def task_query(task: PortalTask | None) -> str:
    """The query string (with `?`) that asks a portal link for `task`; "" for none."""
    if task is None:
        return ""
    parameters = {"flow": task.flow.value}
    if task.subscription_id:
        parameters["subscription"] = task.subscription_id
    if task.invoice_id:
        parameters["invoice"] = task.invoice_id
    return "?" + urlencode(parameters)
