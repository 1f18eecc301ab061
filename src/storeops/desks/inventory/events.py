"""Event kinds of the inventory desk."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from storeops.bounds import MAX_QUANTITY, Count, MinorAmount, Quantity, StockFigure
from storeops.engine.events import Payload

Sku = Field(min_length=1, max_length=128)
Location = Field(min_length=1, max_length=64)

Cause = Literal["sale", "reservation", "release", "return", "receipt", "transfer", "count", "adjustment", "damage"]


class StockAdjusted(Payload):
    """``stock.adjusted``: a movement of stock with its cause."""

    sku: str = Sku
    location: str = Location
    quantity_delta: StockFigure
    cause: Cause
    backfill: bool = False
    """Part of importing an existing store (opening stock), not news."""


class StockCounted(Payload):
    """``stock.counted``: a cycle count of one SKU at one location."""

    sku: str = Sku
    location: str = Location
    counted: Count
    backfill: bool = False


class DeliveryReceived(Payload):
    """``delivery.received``: a supplier's delivery arrived."""

    sku: str = Sku
    location: str = Location
    quantity: Quantity
    supplier: str = Field(min_length=1, max_length=128)
    purchase_order: str | None = None
    damaged: int = Field(0, strict=True, ge=0, le=MAX_QUANTITY)
    """Units of ``quantity`` found damaged on arrival (the vendors desk counts them as defects)."""


class ProductUpdated(Payload):
    """``product.updated``: catalogue facts of a SKU (supplier, cost, lead time)."""

    sku: str = Sku
    title: str | None = Field(None, max_length=255)
    supplier: str | None = Field(None, max_length=128)
    cost_minor: MinorAmount | None = None
    lead_time_days: int | None = Field(None, ge=0, le=3650)
    moq: int | None = Field(None, ge=1, le=MAX_QUANTITY)
    case_pack: int | None = Field(None, ge=1, le=MAX_QUANTITY)
    channel_items: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=128)]] = Field(
        default_factory=dict, max_length=32
    )
    """The SKU's id in each channel's inventory (e.g. Shopify's inventory_item_id), to read their reports."""
    storefront_quantity: StockFigure | None = None
    """The storefront's store-wide figure for the SKU (Shopify's variant ``inventory_quantity``): opens
    the SKU's stock at the ledger location ``[inventory] channel_locations`` names for the source when
    no level of the SKU is known yet; never compared with the ledger afterwards."""
    backfill: bool = False
    """Part of importing an existing catalogue: recorded, never a new_sku handoff."""


class ChannelStockReported(Payload):
    """``channel.stock_reported``: a sales channel's own absolute stock level (e.g. Shopify's)."""

    channel: str = Field(min_length=1, max_length=64)
    location: str = Location
    available: StockFigure
    sku: str | None = Field(None, max_length=128)
    inventory_item_id: str | None = Field(None, max_length=128)
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
