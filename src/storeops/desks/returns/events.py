"""Event kinds of the returns desk."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storeops.bounds import Quantity
from storeops.desks.returns.policy import Condition
from storeops.engine.events import Payload

Channel = Literal["chat", "email", "portal", "cli", "api", "shopify", "woocommerce"]


class ReturnLine(BaseModel):
    """A SKU (or the storefront's id of the order line) and how many of it the customer sends back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str | None = Field(None, min_length=1, max_length=128)
    line_item_id: str | None = Field(None, min_length=1, max_length=64)
    """The storefront's id of the order line (Shopify's own returns name lines so)."""
    quantity: Quantity
    exchange_sku: str | None = Field(None, min_length=1, max_length=128)
    """Send this SKU instead of a refund for these units (another size or colour)."""

    @model_validator(mode="after")
    def _named(self) -> ReturnLine:
        if self.sku is None and self.line_item_id is None:
            raise ValueError("name the line by its sku (or line_item_id)")
        return self


class ReturnRequested(Payload):
    """``return.requested``: a customer asks to send items of an order back (the return page, the
    support desk's chat or email, the storefront's own returns, a script)."""

    rma: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9#._:-]+$")
    """The return's number, given when the request was taken (the customer may already have it)."""
    order_number: str = Field(min_length=1, max_length=128)
    """The number the customer sees (``1001`` or ``#1001``)."""
    customer_email: str | None = Field(None, max_length=255)
    customer_id: str | None = Field(None, max_length=128)
    """Proof of ownership: the order's email, or its storefront customer id (a storefront's own return)."""
    lines: list[ReturnLine] = Field(default_factory=list, max_length=1000)
    """What comes back; empty: every unit of the order not yet returned."""
    reason: str = Field("", max_length=5000)
    """The customer's own words."""
    channel: Channel = "api"
    conversation_id: str | None = Field(None, max_length=128)
    order_subject: str | None = Field(None, max_length=255)
    """The order's subject when a storefront sends its own return (its order id is no number a customer sees)."""


class ReturnReceived(Payload):
    """``return.received``: the parcel of return ``rma`` arrived and was inspected."""

    rma: str = Field(min_length=1, max_length=64)
    condition: Condition
    note: str | None = Field(None, max_length=2000)


KINDS: dict[str, type[Payload]] = {
    "return.requested": ReturnRequested,
    "return.received": ReturnReceived,
}
