"""Demand classification, stock-out correction and forecasts of the inventory desk."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from storeops.desks.inventory.forecast import Pattern, classify, correct_stockouts, forecast_many, weekday_profile
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.reorder import targets


@pytest.mark.parametrize(
    ("history", "pattern"),
    [
        ([0, 0, 0, 0], Pattern.NONE),
        ([5, 5, 5, 5, 5, 5], Pattern.SMOOTH),  # ADI 1, CV² 0
        ([1, 9, 1, 9, 1, 9], Pattern.ERRATIC),  # ADI 1, CV² 0.64
        ([5, 0, 5, 0, 5, 0], Pattern.INTERMITTENT),  # ADI 2, CV² 0
        ([1, 0, 9, 0, 1, 0, 9, 0], Pattern.LUMPY),  # ADI 2, CV² 0.64
        ([4, 4, 4, 0] * 33 + [4], Pattern.SMOOTH),  # ADI 133/100 = 1.33 ≥ 1.32 would be intermittent
    ],
)
def test_syntetos_boylan_classes(history: list[float], pattern: Pattern) -> None:
    values = np.array(history, dtype=float)
    if pattern is Pattern.SMOOTH and len(history) > 100:
        # 100 demand days in 133: ADI 1.33 — just above the boundary, so intermittent.
        assert classify(values) is Pattern.INTERMITTENT
        assert classify(np.append(values[:-2], [4.0])) is Pattern.INTERMITTENT
        assert classify(np.array([4, 4, 4, 4, 0] * 20, dtype=float)) is Pattern.SMOOTH  # ADI 1.25
        return
    assert classify(values) is pattern


def test_out_of_stock_days_are_not_zero_demand() -> None:
    sales = np.array([4, 4, 4, 0, 0, 4], dtype=float)
    out = np.array([False, False, False, True, True, False])
    assert correct_stockouts(sales, out).tolist() == [4, 4, 4, 4, 4, 4]
    assert correct_stockouts(np.array([0, 0, 6.0]), np.array([True, True, False])).tolist() == [6, 6, 6]


def test_the_weekday_profile_and_the_forecast_follow_the_stores_week() -> None:
    last = date(2026, 6, 7)  # a Sunday
    weeks = 52
    # Sold only on Mondays, 7 a week: the profile puts all the week's demand on Monday.
    history = np.tile(np.array([7, 0, 0, 0, 0, 0, 0], dtype=float), weeks)
    profile = weekday_profile([history], last)
    assert profile[0] == pytest.approx(7.0) and profile[1:].sum() == 0
    [forecast] = forecast_many({"MUG": history}, last, 7).values()
    assert forecast.pattern is Pattern.INTERMITTENT and forecast.method == "croston_sba"
    assert forecast.daily[0] > 0 and all(value == 0 for value in forecast.daily[1:])
    assert forecast.mean == pytest.approx(0.95, rel=0.05)  # SBA: Croston × (1 − α/2), α = 0.1


def test_safety_stock_grows_with_the_service_level_and_lead_time_spread() -> None:
    base = targets(4.0, 2.0, 7, InventoryPolicy())
    assert base.reorder_point == pytest.approx(28 + base.safety_stock)
    assert base.order_up_to == pytest.approx(4 * (7 + 14) + base.safety_stock)
    assert targets(4.0, 2.0, 7, InventoryPolicy(service_level=0.99)).safety_stock > base.safety_stock
    assert targets(4.0, 2.0, 7, InventoryPolicy(lead_time_spread=0)).safety_stock < base.safety_stock
    assert targets(0.0, 0.0, 7, InventoryPolicy()).reorder_point == 0
