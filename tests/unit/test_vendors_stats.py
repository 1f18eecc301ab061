"""The vendors desk's maths at its edges: intervals at 0 % and 100 %, the drop detector on a steady
series and on a slide, its threshold from the false-alarm budget, and the SLA and renewal days."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.desks.vendors import stats
from storeops.desks.vendors.handlers import deadline_for, lateness, renewal_due_on
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.scorecard import month_bounds, standing
from storeops.errors import InvalidInput


@settings(deadline=None)  # the first example imports scipy (on first use, like the desk)
@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_and_jeffreys_intervals_hold_the_estimate_inside_zero_and_one(k: int, n: int) -> None:
    k = min(k, n)
    for found in (stats.wilson(k, n), stats.jeffreys(k, n)):
        assert found.low is not None and found.high is not None and found.value is not None
        assert 0 <= found.low <= found.value <= found.high <= 1


def test_three_of_three_on_time_is_not_certainty() -> None:
    found = stats.wilson(3, 3)
    assert found.value == 1.0 and found.high == 1.0 and found.low is not None and found.low < 0.5


def test_no_defect_in_twenty_units_still_allows_some() -> None:
    found = stats.jeffreys(0, 20)
    assert found.low == 0.0 and found.high is not None and 0.05 < found.high < 0.2


def test_nothing_counted_has_no_estimate() -> None:
    assert stats.wilson(0, 0).as_json() == {"value": None, "count": 0, "interval": None}


def test_the_bootstrap_interval_is_the_same_on_every_run_and_holds_the_mean() -> None:
    days = [12.0, 14.0, 13.5, 15.0, 14.2, 30.0]
    first, second = stats.bootstrap_mean(days), stats.bootstrap_mean(days)
    assert first == second
    assert first.low is not None and first.high is not None and first.low < first.value < first.high  # type: ignore[operator]


def test_the_threshold_grows_with_the_pace_and_shrinks_with_the_budget() -> None:
    assert stats.threshold(52, 0.1) == pytest.approx(math.log(52 * 3 / 0.1))
    assert stats.threshold(104, 0.1) > stats.threshold(52, 0.1) > stats.threshold(52, 1.0)


def test_a_steady_series_raises_no_alarm_and_a_slide_raises_one_at_its_start() -> None:
    rng = np.random.default_rng(7)
    steady = list(rng.random(2000) < 0.05)
    h = stats.threshold(52, 0.1)
    assert stats.cusum_drops(steady, threshold=h) == []
    slide = [False] * 30 + [True, False, True, True, False, True, True, True, True, True, True]
    [drop] = stats.cusum_drops(slide, threshold=h)
    assert drop.since >= 30 and drop.baseline_rate == 0.0 and drop.probability > 0.95


def test_after_an_alarm_the_new_level_is_the_baseline() -> None:
    slide = [False] * 20 + [True] * 60
    drops = stats.cusum_drops(slide, threshold=5.0)
    assert len(drops) == 1  # the bad level is learnt, not reported again and again


def test_a_fixed_threshold_rule_alarms_on_any_bad_month() -> None:
    assert stats.fixed_threshold_alarms([(0, 4), (1, 4), (2, 4)], limit=0.3) == [2]


def test_the_sla_deadline_and_lateness_boundaries() -> None:
    ordered = datetime(2026, 6, 1, 9, tzinfo=UTC)
    deadline = deadline_for(ordered, ordered + timedelta(days=20), 14)
    assert deadline == ordered + timedelta(days=14)
    assert deadline_for(ordered, ordered + timedelta(days=20), None) == ordered + timedelta(days=20)
    assert lateness(deadline, deadline) == (True, 0)
    assert lateness(deadline + timedelta(minutes=1), deadline) == (False, 1)
    assert lateness(deadline - timedelta(minutes=90), deadline) == (True, -90)
    assert lateness(deadline, None) == (None, None)


def test_the_renewal_day_is_notice_plus_lead_before_the_end() -> None:
    policy = VendorsPolicy(renewal_lead_days=30)
    assert renewal_due_on(date(2027, 9, 30), 30, policy) == date(2027, 8, 1)
    assert renewal_due_on(date(2027, 9, 30), 0, VendorsPolicy(renewal_lead_days=0)) == date(2027, 9, 30)


def test_months_and_standings() -> None:
    assert month_bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    for bad in ("2026-13", "26-01", "2026-1", "november"):
        with pytest.raises(InvalidInput):
            month_bounds(bad)
    policy = VendorsPolicy()
    assert [standing(s, policy) for s in (95, 90, 89.9, 75, 60, 59.9, None)] == [
        "excellent",
        "excellent",
        "good",
        "good",
        "watch",
        "poor",
        None,
    ]
