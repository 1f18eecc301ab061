"""[orders] section of storeops.toml."""

from __future__ import annotations

from pydantic import Field

from storeops.engine.desk import DeskPolicy
from storeops.engine.policy import MoneyText


class OrdersPolicy(DeskPolicy):
    """Thresholds of the orders desk."""

    high_value_threshold: MoneyText = Field(
        "500.00", description="Orders totalling this much or more go to a person for approval."
    )
    risk_threshold: float = Field(0.7, ge=0, le=1, description="Risk score (0–1) at or above which an order is held.")
    address_mismatch_repeat: int = Field(
        3, ge=1, description="Orders with shipping ≠ billing within the window that make a repeated mismatch."
    )
    address_mismatch_window_days: int = Field(30, ge=1, description="Window for address_mismatch_repeat, in days.")
    tracking_stale_days: int = Field(
        5, ge=1, description="Days without a tracking scan before a shipment is irregular."
    )
