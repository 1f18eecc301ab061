"""Why returns happen (desks/returns/insights.py) on both databases: what counts, the return rate,
reasons overall, per SKU and per week, and the finding rule at each of its boundaries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from storeops.desks.inventory.tables import products
from storeops.desks.returns.api import FindingRule, ReturnInsights, why_returns_happen
from storeops.desks.returns.tables import returns
from storeops.engine.desk import Registry
from tests.conftest import make_policy
from tests.integration.test_orders_desk import Store, order_event, scan

UNTIL = datetime(2026, 3, 18, 12, tzinfo=UTC)  # a Wednesday
CUT = UNTIL - timedelta(days=14)
"""Where the findings' recent window starts."""
_ids = itertools.count(1)


def a_return(
    engine: Engine,
    at: datetime,
    skus: str | list[str] = "TEE",
    reason: str = "size_fit",
    *,
    state: str = "authorized",
    corrected: str | None = None,
    lines: list[dict[str, Any]] | None = None,
) -> None:
    """A return row as the desk writes it (one unit of each SKU accepted)."""
    names = [skus] if isinstance(skus, str) else skus
    lines = lines or [{"sku": sku, "quantity": 1, "accepted": 1, "refund_minor": 100} for sku in names]
    with engine.begin() as conn:
        conn.execute(
            insert(returns).values(
                rma=f"R-I{next(_ids)}",
                order_number="1",
                channel="portal",
                state=state,
                reason_text="",
                reason_category=reason,
                reason_corrected=corrected,
                lines=lines,
                refund_minor=100,
                shipping_refund_minor=0,
                currency="EUR",
                settlement="refund",
                returnless=False,
                approved=False,
                hold_reasons=[],
                requested_at=at,
                updated_at=at,
            )
        )


def several(engine: Engine, count: int, at: datetime, sku: str, reason: str) -> None:
    for n in range(count):
        a_return(engine, at + timedelta(minutes=n), sku, reason)


def insights(engine: Engine, days: int = 30) -> ReturnInsights:
    with engine.connect() as conn:
        return why_returns_happen(conn, since=UNTIL - timedelta(days=days), until=UNTIL)


@pytest.mark.parametrize(("recent_size_fit", "found"), [(2, True), (3, False)])
def test_a_reason_spikes_on_a_sku_from_three_times_its_earlier_share(
    engine: Engine, recent_size_fit: int, found: bool
) -> None:
    # before: 1 of TEE's 5 returns was damaged (20 %)
    several(engine, 1, CUT - timedelta(days=30), "TEE", "damaged_defective")
    several(engine, 4, CUT - timedelta(days=30), "TEE", "size_fit")
    # last 14 days: 3 damaged of 5 (60 %: exactly 3×) or of 6 (50 %: less)
    several(engine, 3, CUT + timedelta(days=2), "TEE", "damaged_defective")
    several(engine, recent_size_fit, CUT + timedelta(days=3), "TEE", "size_fit")
    findings = insights(engine).findings
    if not found:
        assert findings == ()
        return
    [finding] = findings
    assert (finding.sku, finding.reason) == ("TEE", "damaged_defective")
    assert (finding.recent_count, finding.recent_total, finding.before_count, finding.before_total) == (3, 5, 1, 5)
    assert finding.text == (
        "TEE: 3 of its 5 returns in the last 14 days were damaged or defective (60%), "
        "against 20% of 5 in the 12 weeks before."
    )
    assert finding.as_json()["recent_share"] == 0.6 and finding.as_json()["before_share"] == 0.2


@pytest.mark.parametrize(("count", "found"), [(2, False), (3, True)])
def test_a_finding_needs_three_returns_for_the_reason_and_a_sku_without_history_has_a_share_of_0(
    engine: Engine, count: int, found: bool
) -> None:
    several(engine, count, CUT + timedelta(days=1), "MUG", "damaged_defective")
    findings = insights(engine).findings
    assert [(f.sku, f.reason) for f in findings] == ([("MUG", "damaged_defective")] if found else [])
    if found:
        assert findings[0].before_total == 0
        assert findings[0].text.endswith("it had no returns in the 12 weeks before.")


def test_the_finding_windows_start_and_end_exactly_where_the_rule_says(engine: Engine) -> None:
    rule = FindingRule()
    several(engine, 3, CUT, "MUG", "damaged_defective")  # at the recent window's first moment
    a_return(engine, CUT - timedelta(microseconds=1), "MUG", "size_fit")  # the baseline's last moment
    baseline_start = CUT - timedelta(days=rule.baseline_days)
    a_return(engine, baseline_start, "MUG", "size_fit")  # the baseline's first moment
    a_return(engine, baseline_start - timedelta(microseconds=1), "MUG", "damaged_defective")  # too early
    a_return(engine, UNTIL, "MUG", "size_fit")  # the end is not in it
    [finding] = insights(engine, days=7).findings  # whatever the period shown
    assert (finding.recent_count, finding.recent_total, finding.before_count, finding.before_total) == (3, 3, 0, 2)


def test_figures_count_returns_not_refused_by_their_corrected_reason_and_each_sku_once(
    engine: Engine, registry: Registry
) -> None:
    since = UNTIL - timedelta(days=21)  # Wednesday 25 February: the weeks of 23 Feb to 16 March
    store = Store(engine, registry, make_policy())
    for n, shipped in enumerate([since - timedelta(hours=1), since, since + timedelta(days=3), UNTIL]):
        store.send(order_event(f"90{n}", at=shipped - timedelta(hours=2)), scan(f"90{n}", "in_transit", shipped))
    for n in range(3):
        shipped = since + timedelta(days=4 + n)
        store.send(order_event(f"91{n}", at=shipped - timedelta(hours=2)), scan(f"91{n}", "in_transit", shipped))
    with engine.begin() as conn:
        conn.execute(
            insert(products).values(
                sku="TEE", title="Cotton tee", reorder=False, first_seen_at=UNTIL, updated_at=UNTIL, moq=1, case_pack=1
            )
        )
    march = datetime(2026, 3, 3, 9, tzinfo=UTC)  # week of 2 March
    a_return(engine, march, "TEE", "size_fit")
    a_return(engine, march + timedelta(days=7), ["TEE", "MUG"], "damaged_defective")  # week of 9 March
    a_return(engine, march + timedelta(days=7), "MUG", "other", corrected="wrong_item")
    not_in_order = [
        {"sku": "TEE", "quantity": 1, "accepted": 1, "refund_minor": 100},
        {"sku": "HAT", "quantity": 1, "accepted": 0, "refund_minor": 0},
    ]
    a_return(engine, march + timedelta(days=14), reason="size_fit", lines=not_in_order)  # week of 16 March
    a_return(engine, march, "MUG", "changed_mind", state="refused")
    a_return(engine, march, "MUG", "changed_mind", state="rejected")
    a_return(engine, since - timedelta(microseconds=1), "MUG", "changed_mind")  # before the period

    with engine.connect() as conn:
        found = why_returns_happen(conn, since=since, until=UNTIL)
    data = found.as_json()
    assert (data["returns"], data["orders_shipped"], data["return_rate"]) == (4, 5, 0.8)
    assert data["reasons"] == [
        {"reason": "size_fit", "count": 2, "share": 0.5},
        {"reason": "damaged_defective", "count": 1, "share": 0.25},
        {"reason": "wrong_item", "count": 1, "share": 0.25},
    ]
    assert data["skus"] == [
        {
            "sku": "TEE",
            "title": "Cotton tee",
            "returns": 3,
            "reasons": [
                {"reason": "size_fit", "count": 2, "share": 0.667},
                {"reason": "damaged_defective", "count": 1, "share": 0.333},
            ],
        },
        {
            "sku": "MUG",
            "title": None,
            "returns": 2,
            "reasons": [
                {"reason": "damaged_defective", "count": 1, "share": 0.5},
                {"reason": "wrong_item", "count": 1, "share": 0.5},
            ],
        },
    ]
    assert data["weeks"] == [
        {"week": "2026-02-23", "total": 0, "reasons": {}},
        {"week": "2026-03-02", "total": 1, "reasons": {"size_fit": 1}},
        {"week": "2026-03-09", "total": 2, "reasons": {"damaged_defective": 1, "wrong_item": 1}},
        {"week": "2026-03-16", "total": 1, "reasons": {"size_fit": 1}},
    ]
    assert data["findings"] == [] and data["rule"] == {
        "recent_days": 14,
        "baseline_days": 84,
        "factor": 3,
        "min_returns": 3,
    }
    assert (data["since"], data["until"]) == (since.isoformat(), UNTIL.isoformat())


def test_a_period_without_returns_or_shipments_has_no_rate(engine: Engine) -> None:
    found = insights(engine, days=1)
    assert found.return_rate is None and found.as_json()["return_rate"] is None
    assert found.reasons == () and found.skus == () and found.findings == ()
    assert [week.total for week in found.weeks] == [0]
