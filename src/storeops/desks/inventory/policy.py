"""[inventory] section of storeops.toml."""

from __future__ import annotations

from pydantic import Field

from storeops.engine.desk import DeskPolicy


class InventoryPolicy(DeskPolicy):
    """Thresholds of the inventory desk."""

    service_level: float = Field(0.95, gt=0, lt=1, description="Target probability of not running out in a cycle.")
    count_tolerance_units: int = Field(2, ge=0, description="A count this far from the ledger is still normal.")
    allow_backorders: bool = Field(False, description="Whether available stock may go below zero.")
