"""[inventory] section of storeops.toml."""

from __future__ import annotations

from pydantic import Field

from storeops.engine.desk import DeskPolicy


class InventoryPolicy(DeskPolicy):
    """Thresholds of the inventory desk."""

    service_level: float = Field(0.95, gt=0, lt=1, description="Target probability of not running out in a cycle.")
    count_tolerance_units: int = Field(2, ge=0, description="A count this far from the ledger is still normal.")
    allow_backorders: bool = Field(False, description="Whether available stock may go below zero.")
    history_days: int = Field(182, ge=28, le=1095, description="Days of sales history the forecast is fitted on.")
    days_of_cover: int = Field(
        14, ge=1, le=365, description="Days of forecast demand an order covers beyond the lead time."
    )
    lead_time_spread: float = Field(
        0.2, ge=0, le=2, description="Standard deviation of a supplier's lead time, as a share of the lead time."
    )
    reorder_hour_utc: int = Field(6, ge=0, le=23, description="Hour (UTC) of the daily reorder run.")
    channels: dict[str, int] = Field(
        default_factory=lambda: {"storefront": 0},
        description="Sales channels stock is pushed to, each with its safety buffer in units "
        "(available − buffer is shown for sale), e.g. {shopify = 2, amazon = 5}.",
    )
    anomaly_sigmas: float = Field(
        4.0, gt=0, le=20, description="Sales this many standard deviations outside the forecast are an anomaly."
    )
    spike_min_units: int = Field(5, ge=1, description="A day's sales below this are never a spike.")
    collapse_min_units: float = Field(
        10.0, gt=0, description="A silent week is a collapse only when the forecast expected at least this many."
    )
    channel_locations: dict[str, str] = Field(
        default_factory=dict,
        description="For channels that keep one stock figure per product (WooCommerce), the ledger "
        'location it stands for, e.g. {woocommerce = "WH-PARIS"}.',
    )
    channel_drift_units: int = Field(
        2, ge=0, description="A channel's stock this far from the ledger is corrected silently; beyond it, handed off."
    )
