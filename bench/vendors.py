"""The vendors desk's drop detector against a fixed-threshold scorecard rule.

    python -m bench.vendors [--seeds N] [--json]

- simulator (``storeops.simulate.vendors``): N seeds of seven suppliers over three years — three
  steady, two noisy small ones (one or two deliveries a month), one that slides (late and short
  deliveries rise from 4 % and 3 % to 35 % and 25 % on a random day of the middle year) and one
  that recovers (late deliveries fall from 30 % to 4 %: no drop). The desk's own detector
  (``handlers.detect``, the policy's defaults) runs on each metric. A real drop counts as
  flagged when an alarm on its metric comes after the change; its delay is in 30.44-day periods.
  Every other alarm is a false alarm, counted per supplier-year. Goal: every drop within 3
  periods, at most 1 false alarm per 10 supplier-years.
- oracle, for the goal itself: a Bernoulli CUSUM told each supplier's true rate before and the
  rate a drop brings, its threshold the lowest that keeps within the goal's false alarms. Known
  rates make CUSUM the detector that flags soonest at a given false-alarm rate (Lorden's
  criterion, Moustakides 1986), so its share within 3 periods bounds what the data allows.
- Olist (``../shared/data/olist-*``, read at run time, evaluation only; skipped when absent):
  per seller, each order's promised hand-over to the carrier (the items' latest
  ``shipping_limit_date``) against the actual one (``order_delivered_carrier_date``); sellers
  with at least 30 orders in the two samples together. Alarms on the real series are reported
  per supplier-year (an upper bound of false alarms: a real series may hold real drops). Then,
  20 times per seller, a drop is injected at a random order between 40 % and 70 % of its series
  — from there each on-time hand-over is made late with probability 0.3 — and the delay to the
  first alarm after it is measured, in days.
- fixed threshold, for comparison: what calendar scorecards do — a metric's monthly bad share
  above a limit alarms at the month's end. Its limit and the fewest deliveries a month it needs
  are chosen from a grid as the ones that detect best while raising no more false alarms per
  supplier-year than the detector did on the same series.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import console, print_results
from bench.data import shared_data
from storeops.desks.vendors.handlers import detect
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.simulate.vendors import Roster, roster

PERIOD = timedelta(days=30.44)
LIMITS = [round(0.05 * step, 2) for step in range(1, 20)]
MIN_COUNTS = (1, 2, 3, 5)
INJECTIONS = 20
GOAL_FALSE_ALARMS = 0.1
"""The goal's false alarms per supplier-year (at most 1 per 10)."""
FLIP = 0.3

Series = list[tuple[int, datetime, bool]]


@dataclass
class Case:
    """One metric's series of one supplier, and its true change (None: nothing changed for the worse)."""

    name: str
    series: Series
    change: datetime | None
    years: float


def _months(series: Series) -> list[tuple[datetime, int, int]]:
    """(month end, bad, deliveries) per calendar month of ``series``."""
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for _, at, bad in series:
        counts[(at.year, at.month)][0] += int(bad)
        counts[(at.year, at.month)][1] += 1
    out = []
    for (year, month), (bad, n) in sorted(counts.items()):
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        out.append((end, bad, n))
    return out


def _score(alarms: list[datetime], change: datetime | None) -> tuple[float | None, int]:
    """(delay in days of the first alarm after the change, false alarms)."""
    if change is None:
        return None, len(alarms)
    after = [at for at in alarms if at >= change]
    if not after:
        return None, len(alarms)
    return (after[0] - change).total_seconds() / 86400, len(alarms) - 1


def cusum_alarms(case: Case, policy: VendorsPolicy) -> list[datetime]:
    """When the desk's detector alarms on ``case``."""
    return [case.series[drop.index][1] for drop in detect(case.series, policy)]


def fixed_alarms(case: Case, limit: float, min_count: int) -> list[datetime]:
    """When a fixed monthly threshold alarms on ``case`` (at each month's end)."""
    return [end for end, bad, n in _months(case.series) if n >= min_count and bad / n > limit]


def summarise(cases: Sequence[Case], alarms: Sequence[list[datetime]]) -> dict[str, Any]:
    """Detection (share within 3 periods, delays) and false alarms per supplier-year."""
    delays: list[float] = []
    missed = false = 0
    drops = 0
    for case, found in zip(cases, alarms, strict=True):
        delay, wrong = _score(found, case.change)
        false += wrong
        if case.change is not None:
            drops += 1
            if delay is None:
                missed += 1
            else:
                delays.append(delay)
    years = sum(case.years for case in {case.name: case for case in cases}.values())
    periods = [delay / PERIOD.days for delay in delays]
    return {
        "drops": drops,
        "flagged": len(delays),
        "within_3_periods": sum(1 for p in periods if p <= 3) / drops if drops else None,
        "median_delay_days": statistics.median(delays) if delays else None,
        "p90_delay_days": sorted(delays)[max(0, math.ceil(0.9 * len(delays)) - 1)] if delays else None,
        "max_delay_periods": max(periods) if periods else None,
        "false_alarms": false,
        "supplier_years": years,
        "false_alarms_per_supplier_year": false / years if years else None,
    }


def best_fixed(
    null_cases: Sequence[Case], drop_cases: Sequence[Case], budget: float
) -> tuple[dict[str, Any], float, int] | None:
    """The fixed rule that detects most (then soonest) with no more false alarms per supplier-year than
    ``budget`` on ``null_cases`` (and before the change on ``drop_cases``)."""
    best: tuple[tuple[float, float], dict[str, Any], float, int] | None = None
    for min_count in MIN_COUNTS:
        for limit in LIMITS:
            cases = [*null_cases, *drop_cases]
            found = summarise(cases, [fixed_alarms(case, limit, min_count) for case in cases])
            if (found["false_alarms_per_supplier_year"] or 0) > budget:
                continue
            key = (found["flagged"], -(found["median_delay_days"] or 1e9))
            if best is None or key > best[0]:
                best = (key, found, limit, min_count)
    return None if best is None else (best[1], best[2], best[3])


# -- the simulator --


def simulated_cases(found: Roster, seed: int) -> list[Case]:
    """Every supplier's every metric in one seed, with its true drop."""
    cases = []
    for profile in found.profiles:
        deliveries = found.deliveries[profile.supplier]
        series = {
            "on_time": [(i, d.received_at, d.late) for i, d in enumerate(deliveries)],
            "fill": [(i, d.received_at, d.short) for i, d in enumerate(deliveries)],
            "quality": [(i, d.received_at, d.damaged > 0) for i, d in enumerate(deliveries)],
        }
        for metric, points in series.items():
            change = next(
                (c.at for c in found.changes if c.supplier == profile.supplier and c.metric == metric and c.is_drop),
                None,
            )
            cases.append(Case(f"{seed}:{profile.supplier}", points, change, found.years))
    return cases


RATE_OF = {"on_time": "late", "fill": "short", "quality": "defect"}


def true_rates(found: Roster) -> list[tuple[float, float]]:
    """Per case of ``simulated_cases`` (same order): the metric's true bad rate before, and the rate
    a drop would bring — the sliding supplier's own after-rate for that metric, which is what every
    drop in the simulator is."""
    slides = next(p for p in found.profiles if p.kind == "slides" and p.after is not None)
    out = []
    for profile in found.profiles:
        for rate in RATE_OF.values():  # the order of simulated_cases: on_time, fill, quality
            before = getattr(profile.before, rate)
            after = getattr(slides.after, rate) if slides.after is not None else before
            out.append((before, max(after, before * 1.5)))
    return out


def oracle_alarms(case: Case, p0: float, p1: float, h: float) -> list[datetime]:
    """A Bernoulli CUSUM that knows the rate before and the rate of the drop (the detector that is
    optimal for a known change under Lorden's criterion: no detector flags sooner at the same
    false-alarm rate), restarting after each alarm. Once it has flagged the true drop it stops,
    as the desk's detector takes a supplier's new level for its normal."""
    good, bad = math.log((1 - p1) / (1 - p0)), math.log(p1 / p0)
    statistic, alarms = 0.0, []
    for _, at, is_bad in case.series:
        statistic = max(0.0, statistic + (bad if is_bad else good))
        if statistic > h:
            alarms.append(at)
            statistic = 0.0
            if case.change is not None and at >= case.change:
                break
    return alarms


def run_oracle(cases: Sequence[Case], rates: Sequence[tuple[float, float]], budget: float) -> dict[str, Any]:
    """The oracle CUSUM over ``cases`` at the lowest threshold whose false alarms per supplier-year
    stay within ``budget``: an upper bound on what the data lets any detector flag in time."""
    low, high = 0.5, 20.0
    for _ in range(25):
        middle = (low + high) / 2
        found = summarise(cases, [oracle_alarms(c, p0, p1, middle) for c, (p0, p1) in zip(cases, rates, strict=True)])
        if (found["false_alarms_per_supplier_year"] or 0) > budget:
            low = middle
        else:
            high = middle
    return summarise(cases, [oracle_alarms(c, p0, p1, high) for c, (p0, p1) in zip(cases, rates, strict=True)])


def run_simulator(seeds: int, policy: VendorsPolicy) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The detector, the best fixed rule and the oracle over ``seeds`` rosters."""
    rosters = [roster(seed) for seed in range(seeds)]
    cases = [case for seed, found in enumerate(rosters) for case in simulated_cases(found, seed)]
    rates = [rate for found in rosters for rate in true_rates(found)]
    cusum = summarise(cases, [cusum_alarms(case, policy) for case in cases])
    nulls = [case for case in cases if case.change is None]
    drops = [case for case in cases if case.change is not None]
    fixed = best_fixed(nulls, drops, cusum["false_alarms_per_supplier_year"])
    rows = [{"case": "simulator: storeops CUSUM", **cusum}]
    if fixed is not None:
        found, limit, min_count = fixed
        rows.append({"case": f"simulator: fixed > {limit:.0%} (≥ {min_count}/month)", **found})
    else:
        rows.append({"case": "simulator: fixed (no limit within the false-alarm rate)"})
    oracle = run_oracle(cases, rates, GOAL_FALSE_ALARMS)
    rows.append({"case": "simulator: oracle CUSUM (knows the true rates), at the goal's false alarms", **oracle})
    return rows, {**cusum, "oracle_within_3_periods": oracle["within_3_periods"]}


# -- Olist --


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None
    except ValueError:
        return None


def olist_series(folders: Sequence[Path]) -> dict[str, Series]:
    """Per seller with at least 30 orders: (order, promised hand-over, late) in promised order."""
    carrier: dict[str, datetime] = {}
    promised: dict[tuple[str, str], datetime] = {}
    for folder in folders:
        with (folder / "olist_orders_dataset.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                at = _time(row["order_delivered_carrier_date"])
                if at is not None:
                    carrier[row["order_id"]] = at
        with (folder / "olist_order_items_dataset.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                limit = _time(row["shipping_limit_date"])
                if limit is None:
                    continue
                key = (row["order_id"], row["seller_id"])
                promised[key] = max(promised.get(key, limit), limit)
    by_seller: dict[str, list[tuple[datetime, str, bool]]] = defaultdict(list)
    for (order, seller), limit in promised.items():
        if order in carrier:
            by_seller[seller].append((limit, order, carrier[order] > limit))
    out: dict[str, Series] = {}
    for seller, rows in by_seller.items():
        if len(rows) >= 30:
            rows.sort()
            out[seller] = [(i, at, late) for i, (at, _, late) in enumerate(rows)]
    return out


def _years(series: Series) -> float:
    return max((series[-1][1] - series[0][1]).total_seconds() / (365.25 * 86400), 1 / 12)


def injected(series: Series, seller: str, repeat: int) -> Case:
    """``series`` with a drop from a random order between 40 % and 70 % of it (seeded per seller)."""
    import random

    rng = random.Random(f"olist-{seller}-{repeat}")
    start = rng.randint(int(0.4 * len(series)), int(0.7 * len(series)))
    points = [(i, at, bad or (i >= start and rng.random() < FLIP)) for i, at, bad in series]
    return Case(f"{seller}:{repeat}", points, series[start][1], _years(series))


def run_olist(policy: VendorsPolicy) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The detector and the best fixed rule on Olist sellers, real and with injected drops."""
    folders = [path for name in ("olist-sample-4k", "olist-delivered-sample-10k") if (path := shared_data(name))]
    if not folders:
        return None
    sellers = olist_series(folders)
    if not sellers:
        console.print("skipping Olist: no seller has 30 orders with both hand-over dates")
        return None
    real = [Case(seller, series, None, _years(series)) for seller, series in sellers.items()]
    real_cusum = summarise(real, [cusum_alarms(case, policy) for case in real])
    drops = [injected(series, seller, r) for seller, series in sellers.items() for r in range(INJECTIONS)]
    drop_cusum = summarise(drops, [cusum_alarms(case, policy) for case in drops])
    rows = [
        {"case": f"Olist real ({len(real)} sellers): storeops CUSUM", **real_cusum},
        {"case": "Olist injected: storeops CUSUM", **drop_cusum},
    ]
    fixed = best_fixed(real, [], real_cusum["false_alarms_per_supplier_year"])
    if fixed is not None:
        _, limit, min_count = fixed
        real_fixed = summarise(real, [fixed_alarms(case, limit, min_count) for case in real])
        drop_fixed = summarise(drops, [fixed_alarms(case, limit, min_count) for case in drops])
        rows += [
            {"case": f"Olist real: fixed > {limit:.0%} (≥ {min_count}/month)", **real_fixed},
            {"case": f"Olist injected: fixed > {limit:.0%} (≥ {min_count}/month)", **drop_fixed},
        ]
    summary = {
        "olist_sellers": len(real),
        "olist_real_alarms_per_supplier_year": real_cusum["false_alarms_per_supplier_year"],
        "olist_injected_median_delay_days": drop_cusum["median_delay_days"],
        "olist_injected_flagged": drop_cusum["flagged"] / drop_cusum["drops"],
    }
    return rows, summary


COLUMNS = [
    "case",
    "drops",
    "flagged",
    "within_3_periods",
    "median_delay_days",
    "p90_delay_days",
    "false_alarms",
    "supplier_years",
    "false_alarms_per_supplier_year",
]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its table (and one JSON line with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=40, help="Simulated rosters (7 suppliers, 3 years each).")
    parser.add_argument("--json", action="store_true", help="Also print one JSON object.")
    args = parser.parse_args(argv)
    policy = VendorsPolicy()
    rows, cusum = run_simulator(args.seeds, policy)
    summary: dict[str, Any] = {
        "seeds": args.seeds,
        "simulator_within_3_periods": cusum["within_3_periods"],
        "simulator_false_alarms_per_supplier_year": cusum["false_alarms_per_supplier_year"],
        "goal_met": (cusum["within_3_periods"] == 1.0 and cusum["false_alarms_per_supplier_year"] <= GOAL_FALSE_ALARMS),
        # Below 1.0 the goal is out of any detector's reach on this data, not only this one's.
        "oracle_within_3_periods": cusum["oracle_within_3_periods"],
    }
    olist = run_olist(policy)
    if olist is not None:
        rows += olist[0]
        summary.update(olist[1])
    print_results("bench.vendors", COLUMNS, rows, summary, args.json)


if __name__ == "__main__":
    main()
