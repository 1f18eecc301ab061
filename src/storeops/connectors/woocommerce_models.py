"""WooCommerce's REST API v3 resources as storeops reads them: only the fields it uses, typed and bounded.

As with Shopify (``shopify_models``), anything else in a body is ignored, and a field of the wrong
type or out of bounds is refused naming it (``order.line_items[0].quantity``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from storeops.bounds import Quantity, StockFigure
from storeops.connectors.storefront import Amount, Id, StorefrontModel, Text, Time, id_text


def _optional_id(value: Any) -> str | None:
    # WooCommerce writes "none" as 0: a guest's customer_id, a line's variation_id.
    if value is None or (value == 0 and not isinstance(value, bool)) or value in ("0", ""):
        return None
    return id_text(value)


def _manage_stock(value: Any) -> bool:
    # A variation may say "parent": its stock is managed (by its product).
    if isinstance(value, bool):
        return value
    if value == "parent":
        return True
    raise ValueError('must be true, false or "parent"')


OptionalId = Annotated[str | None, BeforeValidator(_optional_id)]
ManageStock = Annotated[bool, BeforeValidator(_manage_stock)]


class Address(StorefrontModel):
    first_name: Text | None = None
    last_name: Text | None = None
    address_1: Text | None = None
    address_2: Text | None = None
    city: Text | None = None
    postcode: Text | None = None
    state: Text | None = None
    country: Text | None = None
    phone: Text | None = None
    email: Annotated[Text, Field(max_length=255)] | None = None


class LineItem(StorefrontModel):
    sku: Annotated[Text, Field(max_length=128)] | None = None
    name: Text | None = None
    product_id: OptionalId = None
    variation_id: OptionalId = None
    quantity: Quantity | None = None
    total: Amount | None = None


class FeeLine(StorefrontModel):
    total: Amount | None = None


class RefundRef(StorefrontModel):
    """One entry of an order's ``refunds``: WooCommerce lists them with a negative total."""

    id: Id | None = None
    reason: Annotated[Text, Field(max_length=2000)] | None = None
    total: Amount | None = None


class Order(StorefrontModel):
    id: Id | None = None
    number: Annotated[Id, Field(max_length=128)] | None = None
    status: Annotated[Text, Field(max_length=32)] | None = None
    currency: Text | None = None
    date_created_gmt: Time | None = None
    date_modified_gmt: Time | None = None
    date_paid_gmt: Time | None = None
    customer_id: OptionalId = None
    customer_ip_address: Annotated[Text, Field(max_length=64)] | None = None
    billing: Address | None = None
    shipping: Address | None = None
    line_items: Annotated[list[LineItem], Field(max_length=1000)] | None = None
    fee_lines: Annotated[list[FeeLine], Field(max_length=100)] | None = None
    total: Amount | None = None
    shipping_total: Amount | None = None
    total_tax: Amount | None = None
    refunds: Annotated[list[RefundRef], Field(max_length=1000)] | None = None


class Product(StorefrontModel):
    id: Id | None = None
    sku: Annotated[Text, Field(max_length=128)] | None = None
    name: Text | None = None
    manage_stock: ManageStock | None = None
    stock_quantity: StockFigure | None = None
    date_modified_gmt: Time | None = None


class Customer(StorefrontModel):
    id: Id | None = None
    email: Annotated[Text, Field(max_length=255)] | None = None
    billing: Address | None = None
    role: Annotated[Text, Field(max_length=64)] | None = None
    date_created_gmt: Time | None = None
    date_modified_gmt: Time | None = None
