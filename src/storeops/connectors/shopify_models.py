"""Shopify's Admin REST resources as storeops reads them: only the fields it uses, each typed and bounded.

Everything else in a body is ignored here (it is still part of the dedupe digest). A field of the
wrong type or out of bounds is refused by ``storefront.read`` naming it as Shopify spells it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from storeops.bounds import Quantity, StockFigure
from storeops.connectors.storefront import Amount, Flag, Id, StorefrontModel, Text, Time


def _tags(value: Any) -> list[str]:
    # Shopify sends tags as one comma-separated string; some exports send a list.
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return [tag.strip() for tag in value if tag.strip()]
    raise ValueError("must be a comma-separated string or a list of strings")


Tags = Annotated[list[Annotated[str, Field(max_length=255)]], BeforeValidator(_tags), Field(max_length=250)]


class Address(StorefrontModel):
    name: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    address1: Text | None = None
    address2: Text | None = None
    city: Text | None = None
    zip: Text | None = None
    province_code: Text | None = None
    province: Text | None = None
    country_code: Text | None = None
    country: Text | None = None
    phone: Text | None = None


class Customer(StorefrontModel):
    id: Id | None = None
    email: Annotated[Text, Field(max_length=255)] | None = None
    tags: Tags | None = None
    created_at: Time | None = None
    updated_at: Time | None = None
    currency: Text | None = None
    total_spent: Amount | None = None


class LineItem(StorefrontModel):
    id: Id | None = None
    sku: Annotated[Text, Field(max_length=128)] | None = None
    variant_id: Id | None = None
    quantity: Quantity | None = None
    price: Amount | None = None
    grams: Annotated[int, Field(strict=True, ge=0, le=10**9)] | None = None
    title: Text | None = None


class Transaction(StorefrontModel):
    status: Text | None = None
    kind: Text | None = None
    amount: Amount | None = None
    currency: Text | None = None


class ClientDetails(StorefrontModel):
    browser_ip: Text | None = None


class ShippingLine(StorefrontModel):
    price: Amount | None = None
    discounted_price: Amount | None = None


class Order(StorefrontModel):
    id: Id | None = None
    name: Annotated[Text, Field(max_length=128)] | None = None
    order_number: Id | None = None
    email: Annotated[Text, Field(max_length=255)] | None = None
    currency: Text | None = None
    created_at: Time | None = None
    updated_at: Time | None = None
    cancelled_at: Time | None = None
    cancel_reason: Text | None = None
    financial_status: Annotated[Text, Field(max_length=32)] | None = None
    fulfillment_status: Text | None = None
    source_name: Annotated[Text, Field(max_length=64)] | None = None
    browser_ip: Annotated[Text, Field(max_length=64)] | None = None
    client_details: ClientDetails | None = None
    transactions: Annotated[list[Transaction], Field(max_length=1000)] | None = None
    line_items: Annotated[list[LineItem], Field(max_length=1000)] | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    customer: Customer | None = None
    total_price: Amount | None = None
    total_line_items_price: Amount | None = None
    total_discounts: Amount | None = None
    total_tax: Amount | None = None
    taxes_included: Flag | None = None
    total_tip_received: Amount | None = None
    shipping_lines: Annotated[list[ShippingLine], Field(max_length=100)] | None = None


class Fulfillment(StorefrontModel):
    id: Id | None = None
    order_id: Id | None = None
    tracking_number: Annotated[Text, Field(max_length=64)] | None = None
    shipment_status: Text | None = None
    updated_at: Time | None = None


class Variant(StorefrontModel):
    id: Id | None = None
    sku: Annotated[Text, Field(max_length=128)] | None = None
    title: Text | None = None
    inventory_item_id: Id | None = None
    inventory_management: Text | None = None
    inventory_quantity: StockFigure | None = None
    updated_at: Time | None = None


class Product(StorefrontModel):
    id: Id | None = None
    title: Text | None = None
    updated_at: Time | None = None
    variants: Annotated[list[Variant], Field(max_length=2000)] | None = None


class InventoryLevel(StorefrontModel):
    inventory_item_id: Id | None = None
    location_id: Annotated[Id, Field(max_length=64)] | None = None
    available: StockFigure | None = None
    updated_at: Time | None = None


class RefundTransaction(StorefrontModel):
    kind: Text | None = None
    amount: Amount | None = None
    currency: Text | None = None


class Refund(StorefrontModel):
    id: Id | None = None
    order_id: Id | None = None
    created_at: Time | None = None
    note: Text | None = None
    transactions: Annotated[list[RefundTransaction], Field(max_length=1000)] | None = None


class ReturnedItem(StorefrontModel):
    id: Id | None = None
    sku: Annotated[Text, Field(max_length=128)] | None = None


class FulfillmentLineItem(StorefrontModel):
    line_item: ReturnedItem | None = None


class ReturnLineItem(StorefrontModel):
    quantity: Quantity | None = None
    return_reason: Annotated[Text, Field(max_length=64)] | None = None
    return_reason_note: Annotated[Text, Field(max_length=2000)] | None = None
    customer_note: Annotated[Text, Field(max_length=2000)] | None = None
    fulfillment_line_item: FulfillmentLineItem | None = None


class ReturnOrder(StorefrontModel):
    id: Id | None = None


class Return(StorefrontModel):
    """``returns/request``: a customer asked for a return in Shopify's own returns."""

    id: Id | None = None
    name: Annotated[Text, Field(max_length=64)] | None = None
    order: ReturnOrder | None = None
    return_line_items: Annotated[list[ReturnLineItem], Field(max_length=1000)] | None = None
    created_at: Time | None = None
