"""Event kinds of the vendors desk (it also reads the inventory desk's ``delivery.received`` and
``purchase_order.drafted``)."""

from __future__ import annotations

from pydantic import Field

from storeops.bounds import MinorAmount
from storeops.engine.events import Payload


class SupplierPriceChanged(Payload):
    """``supplier.price_changed``: a supplier announced a new unit cost for a SKU of its catalogue."""

    supplier: str = Field(min_length=1, max_length=128)
    sku: str = Field(min_length=1, max_length=128)
    cost_minor: MinorAmount
    currency: str = Field(min_length=3, max_length=3)


KINDS: dict[str, type[Payload]] = {"supplier.price_changed": SupplierPriceChanged}
