"""Event kinds of the orders desk."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storeops.desks.common import Address, CustomerRef
from storeops.engine.events import Payload
from storeops.money import validate_currency


class OrderLine(BaseModel):
    """One line of an order."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    unit_price_minor: int = Field(ge=0)
    grams: int | None = Field(None, ge=0)


class OrderPlaced(Payload):
    """``order.created`` / ``order.updated``: the order as the storefront has it now."""

    order_number: str = Field(min_length=1)
    customer: CustomerRef
    currency: str
    total_minor: int = Field(ge=0)
    lines: list[OrderLine] = Field(min_length=1)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    channel: str | None = None
    ip: str | None = None
    ip_country: str | None = None
    device_id: str | None = None
    payment_status: str | None = None
    failed_payments: int = Field(0, ge=0)
    storefront_status: Literal["open", "partial", "fulfilled", "cancelled"] = "open"
    """Where the storefront says the order is: ``fulfilled`` and ``cancelled`` are recorded as they
    are (never fulfilled again); ``partial`` carries only the lines still to ship."""
    backfill: bool = False
    """Part of importing the store's existing orders. An open one is still decided (it waits to be
    shipped), knowing the storefront's stock figures already leave its units out."""

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return validate_currency(value)


class OrderCancelled(Payload):
    """``order.cancelled``: the storefront cancelled the order."""

    order_number: str = Field(min_length=1)
    reason: str | None = None


class OrderCancelRequested(Payload):
    """``order.cancel_requested``: the customer asked to cancel (e.g. through the support desk)."""

    order_number: str = Field(min_length=1)
    reason: str | None = None
    conversation_id: str | None = None


class OrderPaid(Payload):
    """``order.paid``: payment captured."""

    order_number: str = Field(min_length=1)


class ShipmentScanned(Payload):
    """``shipment.scanned``: a carrier's tracking scan."""

    order_number: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)
    status: Literal["label_created", "in_transit", "out_for_delivery", "delivered", "exception", "returned_to_sender"]
    location: str | None = None


class CustomerUpdated(Payload):
    """``customer.updated``: the storefront's customer record (tags, sign-up time, spend)."""

    customer: CustomerRef
    total_spent_minor: int | None = Field(None, ge=0)
    currency: str | None = None
    backfill: bool = False
    """Part of importing the store's existing customers."""


class RefundCreated(Payload):
    """``refund.created``: the storefront refunded (the returns desk will consume these)."""

    order_number: str = Field(min_length=1)
    amount_minor: int = Field(ge=0)
    currency: str
    note: str | None = None


KINDS: dict[str, type[Payload]] = {
    "order.created": OrderPlaced,
    "order.updated": OrderPlaced,
    "order.cancelled": OrderCancelled,
    "order.cancel_requested": OrderCancelRequested,
    "order.paid": OrderPaid,
    "shipment.scanned": ShipmentScanned,
    "customer.updated": CustomerUpdated,
    "refund.created": RefundCreated,
}
