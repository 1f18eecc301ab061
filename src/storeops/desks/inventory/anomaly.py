"""Sales far outside the forecast: a spike yesterday, or a collapse over the last week.

Run with the daily reorder run, over every SKU and location that holds stock. Each series'
expected daily demand and its spread come from the same forecaster the reorders use, on the
history before the day being judged; the interval is expected ± ``[inventory] anomaly_sigmas``
standard deviations.

- *spike*: yesterday's sales above the interval and at least ``spike_min_units``;
- *collapse*: no sales at all in the last 7 days while the forecast expected at least
  ``collapse_min_units`` in them and the SKU had stock to sell.

A series is judged only once it has ``BASELINE_DAYS`` of history since its first sale before
the judged week: a new SKU's first sales are news, not a spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Connection, select

from storeops.desks.inventory.forecast import correct_stockouts, forecast_many
from storeops.desks.inventory.ledger import stock_levels
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.reorder import daily_sales

WEEK = 7
BASELINE_DAYS = 28


@dataclass(frozen=True)
class SalesAnomaly:
    """One SKU at one location whose sales left the forecast interval."""

    sku: str
    location: str
    kind: str
    """``sales_spike`` or ``sales_collapse``."""
    day: str
    sold: float
    expected: float
    expected_range: tuple[float, float]


def sales_anomalies(conn: Connection, policy: InventoryPolicy, as_of: datetime) -> list[SalesAnomaly]:
    """Spikes of yesterday and collapses of the last week, judged on the history before them."""
    stocked = {(row.sku, row.location): row.on_hand - row.reserved for row in conn.execute(select(stock_levels))}
    keys = sorted(stocked)
    if not keys:
        return []
    today = as_of.date()
    history = daily_sales(conn, keys, today, policy.history_days)
    before_week = {}
    for key in keys:
        sold, out = history[key]
        before_week[f"{key[0]}@{key[1]}"] = correct_stockouts(sold[:-WEEK], out[:-WEEK])
    forecasts = forecast_many(before_week, today - timedelta(days=WEEK + 1), WEEK)
    found: list[SalesAnomaly] = []
    k = policy.anomaly_sigmas
    for sku, location in keys:
        sold, out = history[(sku, location)]
        baseline = sold[:-WEEK]
        if not baseline.any() or baseline.size - int(np.argmax(baseline > 0)) < BASELINE_DAYS:
            continue
        forecast = forecasts[f"{sku}@{location}"]
        expected = forecast.daily[-1]
        high = expected + k * forecast.sigma
        yesterday = float(sold[-1])
        if yesterday > high and yesterday >= policy.spike_min_units:
            found.append(
                SalesAnomaly(
                    sku,
                    location,
                    "sales_spike",
                    (today - timedelta(days=1)).isoformat(),
                    yesterday,
                    round(expected, 2),
                    (round(max(0.0, expected - k * forecast.sigma), 2), round(high, 2)),
                )
            )
        week_expected = sum(forecast.daily)
        week_low = week_expected - k * forecast.sigma * math.sqrt(WEEK)
        if (
            sold[-WEEK:].sum() == 0
            and not out[-WEEK:].any()
            and week_expected >= policy.collapse_min_units
            and week_low > 0
        ):
            found.append(
                SalesAnomaly(
                    sku,
                    location,
                    "sales_collapse",
                    (today - timedelta(days=WEEK)).isoformat(),
                    0.0,
                    round(week_expected, 2),
                    (round(week_low, 2), round(week_expected + k * forecast.sigma * math.sqrt(WEEK), 2)),
                )
            )
    return found
