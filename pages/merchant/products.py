"""`/products`: the merchant's products with their prices; create a product, add a price, archive and restore."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.money import parse_money
from app.services.catalog import PriceTerms, create_price, create_product, list_catalog, update_price, update_product
from app.views.catalog import CatalogPrice, CatalogProduct
from components.catalog import OpenForm, empty_catalog, price_amount_text, price_dialog, product_card, product_dialog
from components.dialogs import confirm
from pages.actors import MERCHANT
from pages.merchant.scaffold import MerchantPage, merchant_page


def register(context: AppContext) -> None:
    merchant_page(context, "/products", title="Products")(products_page)


def products_page(page: MerchantPage) -> None:
    ProductList(page).build()


class ProductList:
    """The page's state is the database: every change reloads the list."""

    def __init__(self, page: MerchantPage) -> None:
        self.page = page

    def build(self) -> None:
        with ui.row().classes("w-full max-w-3xl items-center justify-between gap-2 q-mb-md"):
            ui.label(
                "What customers subscribe to. Archived products and prices stay on existing subscriptions."
            ).classes("text-body2 text-grey-8")
            ui.button("New product", icon="add", on_click=self.new_product).props("unelevated no-caps")
        self.products()

    @ui.refreshable_method
    def products(self) -> None:
        with self.page.context.database.transaction() as session:
            catalog = list_catalog(session=session, merchant_id=self.page.merchant_id)
        if not catalog:
            empty_catalog(self.new_product)
            return
        with ui.column().classes("w-full max-w-3xl gap-4"):
            for product in catalog:
                product_card(
                    product,
                    on_add_price=self.new_price,
                    on_edit=self.edit_product,
                    on_set_active=self.ask_set_product_active,
                    on_set_price_active=self.ask_set_price_active,
                )
            if all(not product.prices for product in catalog if product.active):
                ui.label("Next: add a price to a product, then start a subscription from a customer's page.").classes(
                    "text-body2 text-grey-8"
                )

    def new_product(self) -> None:
        product_dialog(None, self.save_product(None))

    def edit_product(self, product: CatalogProduct) -> None:
        product_dialog(product, self.save_product(product))

    def save_product(self, product: CatalogProduct | None) -> Any:
        page = self.page

        async def save(form: OpenForm) -> None:
            values = form.values()

            def work(session: Session) -> CatalogProduct:
                if product is None:
                    return create_product(
                        session=session,
                        merchant_id=page.merchant_id,
                        name=values["name"],
                        description=values["description"],
                        actor=MERCHANT,
                        clock=page.context.clock,
                    )
                return update_product(
                    session=session,
                    merchant_id=page.merchant_id,
                    product_id=product.id,
                    name=values["name"],
                    description=values["description"],
                    actor=MERCHANT,
                    clock=page.context.clock,
                )

            await page.act(
                work,
                then=lambda _saved: self._saved(form),
                done="Product created" if product is None else "Product saved",
                not_found="This product no longer exists.",
                on_invalid=form.fields.show_errors,
                buttons=(form.save,),
            )

        return save

    def new_price(self, product: CatalogProduct) -> None:
        page = self.page

        async def save(form: OpenForm) -> None:
            values = form.values()
            currency = str(values["currency"] or "")
            amount = parse_money(str(values["unit_amount"]), currency or "USD")
            if amount is None:
                form.fields.show_errors({"unit_amount": "Enter an amount like 29.00, without a currency sign."})
                return
            count = values["interval_count"]
            terms = PriceTerms(
                unit_amount=amount,
                currency=currency,
                interval=str(values["interval"] or ""),
                interval_count=int(count) if isinstance(count, int | float) and float(count).is_integer() else 0,
                nickname=values["nickname"],
            )
            await page.act(
                lambda session: create_price(
                    session=session,
                    merchant_id=page.merchant_id,
                    product_id=product.id,
                    terms=terms,
                    actor=MERCHANT,
                    clock=page.context.clock,
                ),
                then=lambda _price: self._saved(form),
                done="Price added",
                not_found="This product no longer exists.",
                on_invalid=form.fields.show_errors,
                buttons=(form.save,),
            )

        price_dialog(product, page.account.default_currency, save)

    def _saved(self, form: OpenForm) -> None:
        form.dialog.close()
        self.products.refresh()

    def ask_set_product_active(self, product: CatalogProduct, active: bool) -> None:
        if active:
            ui.timer(0, lambda: self.set_product_active(product, True), once=True)
            return
        confirm(
            f"Archive {product.name}?",
            "Its prices are archived too: subscriptions that have them keep them, but new subscriptions cannot "
            "choose them. You can restore the product later.",
            "Archive product",
            lambda: self.set_product_active(product, False),
        )

    async def set_product_active(self, product: CatalogProduct, active: bool) -> None:
        page = self.page
        await page.act(
            lambda session: update_product(
                session=session,
                merchant_id=page.merchant_id,
                product_id=product.id,
                active=active,
                actor=MERCHANT,
                clock=page.context.clock,
            ),
            done="Product restored: restore the prices you want to offer again" if active else "Product archived",
            not_found="This product no longer exists.",
        )
        self.products.refresh()

    def ask_set_price_active(self, price: CatalogPrice, active: bool) -> None:
        if active:
            ui.timer(0, lambda: self.set_price_active(price, True), once=True)
            return
        confirm(
            f"Archive {price_amount_text(price)}?",
            "Subscriptions that have this price keep it; new subscriptions cannot choose it.",
            "Archive price",
            lambda: self.set_price_active(price, False),
        )

    async def set_price_active(self, price: CatalogPrice, active: bool) -> None:
        page = self.page
        await page.act(
            lambda session: update_price(
                session=session,
                merchant_id=page.merchant_id,
                price_id=price.id,
                active=active,
                actor=MERCHANT,
                clock=page.context.clock,
            ),
            done="Price restored" if active else "Price archived",
            not_found="This price no longer exists.",
        )
        self.products.refresh()
