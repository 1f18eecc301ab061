"""Scorecards: per supplier and period, each metric with its count, interval and SLA target, a
weighted score and a standing (docs/vendors.md#scorecards)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from storeops.desks.returns import api as returns_api
from storeops.desks.vendors import stats
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.tables import suppliers, vendor_contracts, vendor_deliveries
from storeops.errors import InvalidInput

METRICS = ("on_time_rate", "fill_rate", "defect_rate", "lead_time_days", "cost_variance")
HIGHER_IS_BETTER = {"on_time_rate": True, "fill_rate": True, "defect_rate": False, "lead_time_days": False}


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` → its first instant and the first instant of the next month, UTC."""
    try:
        year, month = (int(part) for part in period.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"--period {period!r} is not a month such as 2026-11", field="period") from None
    if len(period) != 7 or not 2000 <= year <= 2100:
        raise InvalidInput(f"--period {period!r} is not a month such as 2026-11", field="period")
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_of(moment: datetime) -> str:
    """The ``YYYY-MM`` of ``moment`` (UTC)."""
    return f"{moment.astimezone(UTC):%Y-%m}"


@dataclass(frozen=True)
class Contract:
    """A contract's SLA targets as the desk judges with them."""

    contract: str | None
    on_time_target: float
    fill_target: float
    defect_target: float
    lead_time_days: int | None


def contract_in_force(conn: Connection, supplier: str, on: date, policy: VendorsPolicy) -> Contract:
    """The supplier's contract in force on ``on`` (the latest started), with the policy's targets for
    what it does not name; the policy's alone when it has none."""
    row = conn.execute(
        select(vendor_contracts)
        .where(
            vendor_contracts.c.supplier == supplier,
            vendor_contracts.c.starts_on <= on,
            vendor_contracts.c.ends_on >= on,
        )
        .order_by(vendor_contracts.c.starts_on.desc())
        .limit(1)
    ).first()
    if row is None:
        return Contract(None, policy.on_time_target, policy.fill_target, policy.defect_target, None)
    return Contract(
        row.contract,
        row.on_time_target if row.on_time_target is not None else policy.on_time_target,
        row.fill_target if row.fill_target is not None else policy.fill_target,
        row.defect_target if row.defect_target is not None else policy.defect_target,
        row.lead_time_days,
    )


def _sla(name: str, found: stats.Interval, target: float | None) -> str | None:
    """``met`` / ``missed`` when the whole interval is on one side of the target, else ``unclear``
    (too few deliveries to tell); None without a target or figures."""
    if target is None or found.value is None:
        return None
    low, high = found.low, found.high
    if low is None or high is None:
        low = high = found.value
    if HIGHER_IS_BETTER.get(name, False):
        return "met" if low >= target else "missed" if high < target else "unclear"
    return "met" if high <= target else "missed" if low > target else "unclear"


def standing(score: float | None, policy: VendorsPolicy) -> str | None:
    """The standing of a score: excellent, good, watch or poor (None without a score)."""
    if score is None:
        return None
    bars = policy.standings
    if score >= bars.excellent:
        return "excellent"
    if score >= bars.good:
        return "good"
    return "watch" if score >= bars.watch else "poor"


def supplier_card(
    name: str,
    display: str,
    rows: list[Any],
    defects: int,
    contract: Contract,
    policy: VendorsPolicy,
    period: str,
) -> dict[str, Any]:
    """One supplier's scorecard over ``rows`` (its deliveries of the period) and ``defects`` (units
    the returns desk counted as defective)."""
    confidence = policy.confidence
    judged = [row for row in rows if row.on_time is not None]
    on_time = stats.wilson(sum(1 for row in judged if row.on_time), len(judged), confidence)
    with_po = [row for row in rows if row.ordered]
    ordered = sum(int(row.ordered) for row in with_po)
    filled = sum(min(int(row.received), int(row.ordered)) for row in with_po)
    fill = stats.wilson(filled, ordered, confidence)
    received = sum(int(row.received) for row in rows)
    bad_units = min(received, sum(int(row.damaged) for row in rows) + defects)
    defect = stats.jeffreys(bad_units, received, confidence)
    lead_days = [
        (row.received_at - row.ordered_at).total_seconds() / 86400 for row in rows if row.ordered_at is not None
    ]
    lead = stats.bootstrap_mean(lead_days, confidence)
    variances = [
        (int(row.cost_minor) - int(row.catalogue_cost_minor)) / int(row.catalogue_cost_minor)
        for row in rows
        if row.cost_minor is not None and row.catalogue_cost_minor
    ]
    cost = stats.bootstrap_mean(variances, confidence)
    metrics: dict[str, dict[str, Any]] = {
        "on_time_rate": {**on_time.as_json(), "target": contract.on_time_target},
        "fill_rate": {**fill.as_json(), "target": contract.fill_target},
        "defect_rate": {**defect.as_json(), "target": contract.defect_target},
        "lead_time_days": {
            **lead.as_json(),
            "spread": None if (s := stats.spread(lead_days)) is None else round(s, 4),
            "target": contract.lead_time_days,
        },
        "cost_variance": {**cost.as_json(), "target": 0.0},
    }
    for key, found in (
        ("on_time_rate", on_time),
        ("fill_rate", fill),
        ("defect_rate", defect),
        ("lead_time_days", lead),
    ):
        metrics[key]["sla"] = _sla(key, found, metrics[key]["target"])
    metrics["cost_variance"]["sla"] = None
    weights = policy.weights
    parts = [
        (weights.on_time, on_time.value),
        (weights.fill, fill.value),
        (weights.quality, None if defect.value is None else 1 - defect.value),
        (weights.cost, None if cost.value is None else 1 - min(1.0, max(0.0, cost.value))),
    ]
    counted = [(weight, value) for weight, value in parts if value is not None and weight > 0]
    score = round(100 * sum(w * v for w, v in counted) / sum(w for w, _ in counted), 1) if counted else None
    return {
        "supplier": name,
        "name": display,
        "period": period,
        "contract": contract.contract,
        "deliveries": len(rows),
        "units_received": received,
        "score": score,
        "standing": standing(score, policy),
        "metrics": metrics,
    }


def scorecards(
    conn: Connection, policy: VendorsPolicy, *, since: datetime, until: datetime, period: str
) -> list[dict[str, Any]]:
    """Every supplier's scorecard for deliveries received in ``[since, until)``, by supplier."""
    names = {row.supplier: row.name for row in conn.execute(select(suppliers.c.supplier, suppliers.c.name))}
    by_supplier: dict[str, list[Any]] = defaultdict(list)
    for row in conn.execute(
        select(vendor_deliveries)
        .where(and_(vendor_deliveries.c.received_at >= since, vendor_deliveries.c.received_at < until))
        .order_by(vendor_deliveries.c.received_at, vendor_deliveries.c.id)
    ):
        by_supplier[row.supplier].append(row)
    defects = {
        found.supplier: found.defect_units for found in returns_api.vendor_defects(conn, since=since, until=until)
    }
    # the contract in force at the end of the period (or now, for the month under way)
    on = max(since, min(until - timedelta(seconds=1), datetime.now(UTC))).date()
    cards = []
    for name in sorted(set(names) | set(by_supplier)):
        contract = contract_in_force(conn, name, on, policy)
        cards.append(
            supplier_card(
                name, names.get(name, name), by_supplier.get(name, []), defects.get(name, 0), contract, policy, period
            )
        )
    return cards


def monthly_scorecards(conn: Connection, policy: VendorsPolicy, period: str) -> list[dict[str, Any]]:
    """Every supplier's scorecard for the month ``YYYY-MM``."""
    since, until = month_bounds(period)
    return scorecards(conn, policy, since=since, until=until, period=period)
