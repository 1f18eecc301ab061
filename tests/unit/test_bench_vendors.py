"""The oracle bench.vendors measures the goal with: a CUSUM told the true rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.vendors import Case, oracle_alarms, summarise

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _case(bad: list[bool], change: int | None) -> Case:
    series = [(i, T0 + timedelta(days=5 * i), flag) for i, flag in enumerate(bad)]
    return Case("sup", series, None if change is None else series[change][1], 1.0)


def test_the_oracle_flags_a_drop_once_soon_after_it_and_nothing_on_a_steady_series() -> None:
    steady = _case([False] * 60, None)
    drop = _case([False] * 30 + [True, False, True, True, False, True, True, True] * 4, 30)
    assert oracle_alarms(steady, 0.04, 0.35, 4.0) == []
    alarms = oracle_alarms(drop, 0.04, 0.35, 4.0)
    # one alarm (it stops once the true drop is flagged), a few deliveries after the change
    assert len(alarms) == 1 and drop.change is not None and drop.change <= alarms[0] <= drop.change + timedelta(days=25)
    found = summarise([steady, drop], [[], alarms])
    assert found["flagged"] == 1 and found["false_alarms"] == 0 and found["within_3_periods"] == 1.0


def test_a_higher_threshold_flags_no_sooner() -> None:
    drop = _case([False] * 30 + [True, False] * 20, 30)
    early, late = oracle_alarms(drop, 0.04, 0.35, 3.0), oracle_alarms(drop, 0.04, 0.35, 8.0)
    assert early and late and early[0] <= late[0]
