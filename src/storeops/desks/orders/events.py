"""Event kinds of the orders desk."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storeops.bounds import MAX_MINOR, MinorAmount, Quantity
from storeops.desks.common import Address, CustomerRef
from storeops.engine.events import Payload
from storeops.money import validate_currency


class OrderLine(BaseModel):
    """One line of an order."""

    model_config = ConfigDict(extra="allow", frozen=True)

    sku: str = Field(min_length=1, max_length=128)
    quantity: Quantity
    unit_price_minor: MinorAmount
    grams: int | None = Field(None, ge=0, le=10**9)
    total_minor: MinorAmount | None = None
    """The line's exact total when the storefront gives one (WooCommerce: after the line's
    discounts); the unit price is then that total divided by the quantity, rounded down."""

    @model_validator(mode="after")
    def _line_fits(self) -> OrderLine:
        if self.quantity * self.unit_price_minor > MAX_MINOR:
            raise ValueError(f"quantity × unit price is more than the largest amount storeops accepts ({MAX_MINOR})")
        return self


SignedMinor = Annotated[int, Field(strict=True, ge=-MAX_MINOR, le=MAX_MINOR)]


class OrderPlaced(Payload):
    """``order.created`` / ``order.updated``: the order as the storefront has it now."""

    order_number: str = Field(min_length=1, max_length=128)
    customer: CustomerRef
    currency: str
    total_minor: MinorAmount
    lines: list[OrderLine] = Field(min_length=1, max_length=1000)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    channel: str | None = Field(None, max_length=64)
    ip: str | None = Field(None, max_length=64)
    ip_country: str | None = Field(None, max_length=64)
    device_id: str | None = Field(None, max_length=128)
    payment_status: str | None = Field(None, max_length=32)
    failed_payments: int = Field(0, ge=0, le=10**6)
    storefront_status: Literal["open", "partial", "fulfilled", "cancelled"] = "open"
    """Where the storefront says the order is: ``fulfilled`` and ``cancelled`` are recorded as they
    are (never fulfilled again); ``partial`` carries only the lines still to ship."""
    backfill: bool = False
    """Part of importing the store's existing orders. An open one is still decided (it waits to be
    shipped), knowing the storefront's stock figures already leave its units out."""
    shipping_minor: MinorAmount | None = None
    """What the storefront says makes up the total besides the lines: shipping (before shipping
    discounts), its discount, tax added to the prices (0 when prices include it), discounts on the
    order, and other charges (tips, fees; negative for a fee used as a discount). When any is
    given, the orders desk checks that the lines add up to the total (``validate.check_totals``);
    an order without them is not checked."""
    shipping_discount_minor: MinorAmount | None = None
    tax_minor: MinorAmount | None = None
    discount_minor: MinorAmount | None = None
    fees_minor: SignedMinor | None = None

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


class OrderChangeRequested(Payload):
    """``order.change_requested``: the customer asked to change the order (e.g. through the support
    desk): its address, its lines. A person makes the change (``change_request``)."""

    order_number: str = Field(min_length=1, max_length=128)
    what: Literal["address_change", "order_change"]
    text: str = Field(min_length=1, max_length=5000)
    conversation_id: str | None = Field(None, max_length=128)
    customer_email: str | None = Field(None, max_length=255)


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
    total_spent_minor: MinorAmount | None = None
    currency: str | None = None
    backfill: bool = False
    """Part of importing the store's existing customers."""


class RefundCreated(Payload):
    """``refund.created``: the storefront refunded (the returns desk will consume these)."""

    order_number: str = Field(min_length=1)
    amount_minor: MinorAmount
    currency: str
    note: str | None = None


KINDS: dict[str, type[Payload]] = {
    "order.created": OrderPlaced,
    "order.updated": OrderPlaced,
    "order.cancelled": OrderCancelled,
    "order.cancel_requested": OrderCancelRequested,
    "order.change_requested": OrderChangeRequested,
    "order.paid": OrderPaid,
    "shipment.scanned": ShipmentScanned,
    "customer.updated": CustomerUpdated,
    "refund.created": RefundCreated,
}
