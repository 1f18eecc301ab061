"""Event kinds of the inventory desk."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from storeops.engine.events import Payload

Cause = Literal["sale", "reservation", "release", "return", "receipt", "transfer", "count", "adjustment", "damage"]


class StockAdjusted(Payload):
    """``stock.adjusted``: a movement of stock with its cause."""

    sku: str = Field(min_length=1)
    location: str = Field(min_length=1)
    quantity_delta: int
    cause: Cause
    backfill: bool = False
    """Part of importing an existing store (opening stock), not news."""


class StockCounted(Payload):
    """``stock.counted``: a cycle count of one SKU at one location."""

    sku: str = Field(min_length=1)
    location: str = Field(min_length=1)
    counted: int = Field(ge=0)
    backfill: bool = False


class DeliveryReceived(Payload):
    """``delivery.received``: a supplier's delivery arrived."""

    sku: str = Field(min_length=1)
    location: str = Field(min_length=1)
    quantity: int = Field(ge=1)
    supplier: str = Field(min_length=1)
    purchase_order: str | None = None


class ProductUpdated(Payload):
    """``product.updated``: catalogue facts of a SKU (supplier, cost, lead time)."""

    sku: str = Field(min_length=1)
    title: str | None = None
    supplier: str | None = None
    cost_minor: int | None = Field(None, ge=0)
    lead_time_days: int | None = Field(None, ge=0)
    moq: int | None = Field(None, ge=1)
    case_pack: int | None = Field(None, ge=1)
    channel_items: dict[str, str] = Field(default_factory=dict)
    """The SKU's id in each channel's inventory (e.g. Shopify's inventory_item_id), to read their reports."""
    storefront_quantity: int | None = None
    """The storefront's store-wide figure for the SKU (Shopify's variant ``inventory_quantity``): opens
    the SKU's stock at the ledger location ``[inventory] channel_locations`` names for the source when
    no level of the SKU is known yet; never compared with the ledger afterwards."""
    backfill: bool = False
    """Part of importing an existing catalogue: recorded, never a new_sku handoff."""


class ChannelStockReported(Payload):
    """``channel.stock_reported``: a sales channel's own absolute stock level (e.g. Shopify's)."""

    channel: str = Field(min_length=1)
    location: str = Field(min_length=1)
    available: int
    sku: str | None = None
    inventory_item_id: str | None = None
    backfill: bool = False
    """The first sync of a channel: differences are corrected without handoffs."""


class SalesAnomalyFound(Payload):
    """``stock.sales_anomaly``: the daily run found sales far outside the forecast interval."""

    sku: str = Field(min_length=1)
    location: str = Field(min_length=1)
    kind: Literal["sales_spike", "sales_collapse"]
    day: str
    sold: float
    expected: float
    expected_range: tuple[float, float]


class PurchaseOrderDrafted(Payload):
    """``purchase_order.drafted``: the reorder run drafted a purchase order for a person to confirm."""

    number: str = Field(min_length=1)


KINDS: dict[str, type[Payload]] = {
    "stock.adjusted": StockAdjusted,
    "stock.counted": StockCounted,
    "delivery.received": DeliveryReceived,
    "product.updated": ProductUpdated,
    "channel.stock_reported": ChannelStockReported,
    "purchase_order.drafted": PurchaseOrderDrafted,
    "stock.sales_anomaly": SalesAnomalyFound,
}
