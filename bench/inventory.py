"""Inventory desk on real data and at scale.

    python -m bench.inventory [--min-sale-days 20] [--skus 10000] [--json]

1. Forecast accuracy — daily demand per product from UCI Online Retail, France + Germany
   (``../shared/data/uci-online-retail-fr-de``, CC BY 4.0; read at run time, skipped with a
   message when absent): cancellations (C invoices), non-positive quantities and non-product
   codes (postage, fees) removed; products with at least ``--min-sale-days`` days of sales.
   Rolling origin over the last 8 weeks: 8 origins a week apart, each forecasting the next 7
   days from everything before it. WAPE (Σ|error| / Σ demand), MASE (MAE over the in-sample
   seasonal-naive MAE, averaged over series) and bias (Σ forecast / Σ demand) of storeops'
   forecaster against seasonal naive (same weekday last week) and a 28-day moving average.
   Goal of the inventory issue: WAPE at least 15 % below the better baseline.
2. Speed — a reorder run (forecast + reorder maths + draft purchase orders) over ``--skus``
   synthetic SKUs with 182 days of sales history in a fresh SQLite database.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, console, print_results
from storeops.desks.inventory.forecast import forecast_many

DATA = REPO.parent / "shared" / "data" / "uci-online-retail-fr-de"
FILES = ("online_retail_france.csv", "online_retail_germany.csv")
HORIZON = 7
ORIGINS = 8


def load_daily_demand(min_sale_days: int) -> tuple[dict[str, np.ndarray], date] | None:
    """Daily demand per StockCode, or None when the data is not on this machine."""
    if not all((DATA / name).is_file() for name in FILES):
        console.print(f"skipping forecast accuracy: {DATA} is not on this machine")
        return None
    sales: list[tuple[str, date, int]] = []
    for name in FILES:
        with (DATA / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                quantity = int(row["Quantity"])
                code = row["StockCode"]
                if row["InvoiceNo"].startswith("C") or quantity <= 0 or not code[:1].isdigit():
                    continue
                sales.append((code, datetime.strptime(row["InvoiceDate"], "%m/%d/%Y %H:%M").date(), quantity))
    first = min(day for _, day, _ in sales)
    last = max(day for _, day, _ in sales)
    days = (last - first).days + 1
    series: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(days))
    for code, day, quantity in sales:
        series[code][(day - first).days] += quantity
    active = {code: values for code, values in series.items() if (values > 0).sum() >= min_sale_days}
    console.print(
        f"UCI Online Retail FR+DE: {len(series):,} products, {len(active):,} with ≥ {min_sale_days} sale days"
    )
    return active, first


def forecast_accuracy(min_sale_days: int) -> list[dict[str, Any]]:
    """WAPE, MASE and bias per method over the rolling origins."""
    loaded = load_daily_demand(min_sale_days)
    if loaded is None:
        return []
    series, first = loaded
    length = next(iter(series.values())).size
    origins = [length - ORIGINS * HORIZON + HORIZON * n for n in range(ORIGINS)]
    abs_error: dict[str, float] = defaultdict(float)
    forecast_sum: dict[str, float] = defaultdict(float)
    scaled: dict[str, list[float]] = defaultdict(list)
    demand_total = 0.0
    started = time.perf_counter()
    for origin in origins:
        histories = {code: values[:origin] for code, values in series.items()}
        last_day = first + timedelta(days=origin - 1)
        ours = forecast_many(histories, last_day, HORIZON)
        for code, values in series.items():
            history, actual = values[:origin], values[origin : origin + HORIZON]
            demand_total += actual.sum()
            naive_scale = np.abs(history[7:] - history[:-7]).mean() or 1.0
            candidates = {
                "storeops": np.array(ours[code].daily),
                "seasonal naive (7 d)": np.array([history[-7 + step % 7] for step in range(HORIZON)]),
                "moving average (28 d)": np.full(HORIZON, history[-28:].mean()),
            }
            for method, predicted in candidates.items():
                error = np.abs(actual - predicted)
                abs_error[method] += error.sum()
                forecast_sum[method] += predicted.sum()
                scaled[method].append(error.mean() / naive_scale)
    console.print(
        f"forecast accuracy: {len(origins)} origins × {len(series)} products in {time.perf_counter() - started:.1f} s"
    )
    return [
        {
            "case": method,
            "WAPE": round(float(abs_error[method] / demand_total), 4),
            "MASE": round(float(np.mean(scaled[method])), 4),
            "bias": round(float(forecast_sum[method] / demand_total), 3),
        }
        for method in abs_error
    ]


def reorder_speed(skus: int) -> dict[str, Any]:
    """Time one reorder run over ``skus`` SKUs with 182 days of synthetic sales in a fresh SQLite file."""
    import tempfile
    from datetime import UTC

    from sqlalchemy import insert

    from storeops.desks.inventory.ledger import stock_levels, stock_movements
    from storeops.desks.inventory.policy import InventoryPolicy
    from storeops.desks.inventory.reorder import draft_purchase_orders, plan_reorders
    from storeops.desks.inventory.tables import products
    from storeops.storage.db import create_db_engine
    from storeops.storage.migrate import upgrade

    rng = np.random.default_rng(0)
    now = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    days = 182
    with tempfile.TemporaryDirectory() as directory:
        engine = create_db_engine(f"sqlite:///{Path(directory) / 'speed.db'}")
        upgrade(engine)
        console.print(f"reorder speed: writing {skus:,} SKUs with {days} days of sales …")
        rates = rng.gamma(0.6, 2.0, size=skus)  # many slow movers, a few fast ones
        with engine.begin() as conn:
            conn.execute(
                insert(products),
                [
                    {
                        "sku": f"SKU-{n:05d}",
                        "title": None,
                        "supplier": f"Supplier {n % 25}",
                        "cost_minor": 100 + n % 900,
                        "lead_time_days": 5 + n % 20,
                        "moq": 1,
                        "case_pack": 6 if n % 3 == 0 else 1,
                        "reorder": True,
                        "first_seen_at": now,
                        "updated_at": now,
                    }
                    for n in range(skus)
                ],
            )
            movements: list[dict[str, Any]] = []
            levels = []
            for n in range(skus):
                sku = f"SKU-{n:05d}"
                sales = rng.poisson(rates[n], size=days)
                for day in np.flatnonzero(sales):
                    movements.append(
                        {
                            "sku": sku,
                            "location": "WH",
                            "on_hand_delta": -int(sales[day]),
                            "reserved_delta": 0,
                            "cause": "sale",
                            "reference": f"s{n}-{day}",
                            "at": now - timedelta(days=days - int(day)),
                        }
                    )
                on_hand = int(rng.integers(0, 60))
                levels.append({"sku": sku, "location": "WH", "on_hand": on_hand, "reserved": 0, "updated_at": now})
                if len(movements) > 50_000:
                    conn.execute(insert(stock_movements), movements)
                    movements = []
            if movements:
                conn.execute(insert(stock_movements), movements)
            conn.execute(insert(stock_levels), levels)
        started = time.perf_counter()
        with engine.begin() as conn:
            lines, looked_at = plan_reorders(conn, InventoryPolicy(), now)
            drafts = draft_purchase_orders(conn, lines, at=now, currency="EUR")
        elapsed = time.perf_counter() - started
        engine.dispose()
    console.print(
        f"reorder run: {looked_at:,} SKU-locations, {len(lines):,} lines, {len(drafts)} drafts in {elapsed:.1f} s"
    )
    return {"skus": looked_at, "lines": len(lines), "purchase_orders": len(drafts), "seconds": round(elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-sale-days", type=int, default=20)
    parser.add_argument("--skus", type=int, default=10_000, help="SKUs in the reorder speed run (0 skips it)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = forecast_accuracy(args.min_sale_days)
    summary: dict[str, Any] = {}
    if rows:
        ours = next(row["WAPE"] for row in rows if row["case"] == "storeops")
        best_baseline = min(row["WAPE"] for row in rows if row["case"] != "storeops")
        improvement = round(float(1 - ours / best_baseline), 4)
        summary = {"wape_improvement": improvement, "goal": 0.15, "met": bool(improvement >= 0.15)}
        console.print(
            f"WAPE {ours:.3f} vs the better baseline {best_baseline:.3f}: {improvement:.1%} lower (goal 15 %)"
        )
    if args.skus:
        summary["reorder_run"] = reorder_speed(args.skus)
        summary["reorder_run"]["goal_seconds"] = 60
    print_results(
        "Forecast accuracy, rolling origin, last 8 weeks", ["case", "WAPE", "MASE", "bias"], rows, summary, args.json
    )


if __name__ == "__main__":
    main()
