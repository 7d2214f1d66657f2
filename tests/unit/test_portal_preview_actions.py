import pytest

from app.errors import Forbidden, NotFound
from app.services.portal import sample_invoices, sample_portal_data
from app.views import BillingDetailsInput, ShippingInput
from components.portal import PREVIEW_MESSAGE, PreviewActions
from tests.conftest import DEMO_NOW


def _actions() -> PreviewActions:
    return PreviewActions(sample_portal_data(now=DEMO_NOW), invoices=sample_invoices(now=DEMO_NOW))


def test_reads_are_served_from_the_sample() -> None:
    actions = _actions()
    assert actions.reload().customer.name == "Jenny Rosen"
    first, second = actions.list_invoices(None, 1), actions.list_invoices(None, 2)
    assert (len(first.invoices), first.has_next, len(second.invoices), second.has_next) == (10, True, 2, False)
    (open_invoice,) = actions.list_invoices("open", 1).invoices
    assert actions.get_invoice(open_invoice.id).lines
    with pytest.raises(NotFound):
        actions.get_invoice("in_someone_else")


def test_without_a_full_invoice_list_the_first_page_is_what_there_is() -> None:
    data = sample_portal_data(now=DEMO_NOW)
    assert PreviewActions(data).list_invoices(None, 1).invoices == data.invoices.invoices


@pytest.mark.parametrize(
    "write",
    [
        lambda actions: actions.cancel_subscription("sub_sample1", "", ""),
        lambda actions: actions.undo_cancellation("sub_sample2"),
        lambda actions: actions.preview_plan_change("sub_sample1", "price_sample_pro_month", 1),
        lambda actions: actions.change_plan("sub_sample1", "price_sample_pro_month", 1),
        lambda actions: actions.start_card_setup(),
        lambda actions: actions.add_card("seti_sample", "Jenny Rosen", True),
        lambda actions: actions.set_default_card("pm_sample2"),
        lambda actions: actions.remove_card("pm_sample2"),
        lambda actions: actions.update_billing_details(BillingDetailsInput(name="J")),
        lambda actions: actions.update_shipping(ShippingInput(name="J")),
        lambda actions: actions.pay_invoice("in_sample1"),
        lambda actions: actions.payment_authentication("in_sample1"),
        lambda actions: actions.complete_payment("in_sample1", "pi_sample"),
        lambda actions: actions.invoice_pdf("in_sample1", "en_US"),
        lambda actions: actions.resubscribe("sub_sample3", None),
        lambda actions: actions.make_retention_offer("sub_sample1"),
        lambda actions: actions.accept_retention_offer("sub_sample1"),
    ],
)
def test_every_write_explains_that_the_preview_does_not_act(write) -> None:
    with pytest.raises(Forbidden, match=PREVIEW_MESSAGE):
        write(_actions())
