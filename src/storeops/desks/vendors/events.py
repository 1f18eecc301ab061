"""Event kinds of the vendors desk (it also reads the inventory desk's ``delivery.received`` and
``purchase_order.drafted``)."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from storeops.bounds import MinorAmount, Quantity
from storeops.engine.events import Payload


class SupplierPriceChanged(Payload):
    """``supplier.price_changed``: a supplier announced a new unit cost for a SKU of its catalogue."""

    supplier: str = Field(min_length=1, max_length=128)
    sku: str = Field(min_length=1, max_length=128)
    cost_minor: MinorAmount
    currency: str = Field(min_length=3, max_length=3)


class ShipmentNotified(Payload):
    """``shipment.notified``: a supplier's advance shipping notice — units of a purchase order line
    are on their way and when they should arrive."""

    supplier: str = Field(min_length=1, max_length=128)
    purchase_order: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=128)
    quantity: Quantity
    expected_at: AwareDatetime
    """When the supplier says the units will arrive."""


KINDS: dict[str, type[Payload]] = {
    "supplier.price_changed": SupplierPriceChanged,
    "shipment.notified": ShipmentNotified,
}
