"""Why the inventory desk hands a SKU to a person."""

from __future__ import annotations

import enum


class InventoryReason(enum.StrEnum):
    """Reason codes of the inventory desk."""

    STOCK_ANOMALY = "stock_anomaly"
    """Stock moved without a reason, a count is far from the ledger, or sales left the forecast range."""
    NEW_SKU = "new_sku"
    """A SKU appeared after the catalogue import; a person sets its supplier and reorder policy."""
    SUPPLIER_CHANGE = "supplier_change"
    """A SKU's supplier, cost or lead time changed."""
    REORDER_CONFIRMATION = "reorder_confirmation"
    """A draft purchase order waits for a person to confirm quantities."""
