"""The customer portal's use cases: what a verified link's customer sees, and the changes they may make.

Every function is scoped by `access` (the verified link's customer and merchant): objects of anyone else raise
`NotFound`; features the merchant switched off raise `Forbidden`, whatever the UI shows. One module per job:
`access` (scoping), `reads`, `subscriptions` (cancel, undo, plan changes), `pausing` (pause and resume),
`resubscribing`, `retention` (the offer made on canceling),
`billing_details` (and shipping) and `sample` (the settings preview's made-up customer).
"""

from app.services.portal.billing_details import update_billing_details, update_shipping
from app.services.portal.pausing import pause_subscription, resume_subscription
from app.services.portal.reads import (
    compose_portal_view,
    get_invoice,
    list_invoices,
    load_portal_data,
    load_portal_view,
    merchant_prices,
)
from app.services.portal.resubscribing import resubscribe
from app.services.portal.retention import accept_retention_offer, make_retention_offer, offer_of
from app.services.portal.sample import sample_invoices, sample_portal_data
from app.services.portal.subscriptions import (
    MAX_QUANTITY,
    cancel_scheduled_change,
    cancel_subscription,
    change_plan,
    preview_plan_change,
    undo_cancellation,
)

__all__ = [
    "MAX_QUANTITY",
    "accept_retention_offer",
    "cancel_scheduled_change",
    "cancel_subscription",
    "change_plan",
    "compose_portal_view",
    "get_invoice",
    "list_invoices",
    "load_portal_data",
    "load_portal_view",
    "make_retention_offer",
    "merchant_prices",
    "offer_of",
    "pause_subscription",
    "preview_plan_change",
    "resubscribe",
    "resume_subscription",
    "sample_invoices",
    "sample_portal_data",
    "undo_cancellation",
    "update_billing_details",
    "update_shipping",
]
