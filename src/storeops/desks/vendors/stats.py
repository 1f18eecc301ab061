"""The maths of scorecards and the drop detector, as pure functions (docs/vendors.md).

Rates carry an interval (Wilson for a share of deliveries, Jeffreys' Beta for a defect rate, which
is often 0 of many), lead time a bootstrap interval of its mean. The drop detector is a Bernoulli
CUSUM against the supplier's own baseline: each delivery is good or bad (late, short, defective),
the baseline rate of bad ones is estimated from the deliveries before the current excursion, and
the statistic adds the log-likelihood ratio of "bad deliveries' odds multiplied by
``odds_ratio``" against "as before". It alarms above ``threshold``; after an alarm the baseline
starts again, so one drop is reported once and a supplier's new level becomes its normal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np


def _distributions() -> Any:
    """``scipy.stats``, imported on first use: a worker that never scores a supplier never pays its
    start-up time and memory (issue 17)."""
    from scipy import stats

    return stats


@dataclass(frozen=True)
class Interval:
    """An estimate with its count and interval (None for an estimate of nothing)."""

    value: float | None
    count: int
    low: float | None
    high: float | None

    def as_json(self) -> dict[str, float | int | list[float] | None]:
        """``{"value", "count", "interval": [low, high]}`` rounded to 4 places."""
        interval = None if self.low is None or self.high is None else [round(self.low, 4), round(self.high, 4)]
        return {"value": _round(self.value), "count": self.count, "interval": interval}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """The share ``successes / trials`` with Wilson's score interval (good at 0 % and 100 %, unlike
    the normal approximation, which a small supplier's 3 of 3 breaks)."""
    if trials <= 0:
        return Interval(None, 0, None, None)
    z = float(_distributions().norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # rounding can leave the bound a hair past p at 0 % or 100 %; the estimate is always inside
    return Interval(p, trials, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def jeffreys(events: int, trials: int, confidence: float = 0.95) -> Interval:
    """The rate ``events / trials`` with the Jeffreys interval: the quantiles of the Beta(k + ½,
    n − k + ½) posterior, 0 at the bottom when nothing happened (0 defects is not proof of none)."""
    if trials <= 0:
        return Interval(None, 0, None, None)
    alpha = (1 - confidence) / 2
    a, b = events + 0.5, trials - events + 0.5
    low = 0.0 if events == 0 else float(_distributions().beta.ppf(alpha, a, b))
    high = 1.0 if events == trials else float(_distributions().beta.ppf(1 - alpha, a, b))
    return Interval(events / trials, trials, low, high)


def bootstrap_mean(values: Sequence[float], confidence: float = 0.95, *, resamples: int = 2000) -> Interval:
    """The mean of ``values`` with a percentile bootstrap interval (seeded by the values, so the
    same deliveries give the same interval on every run)."""
    if not values:
        return Interval(None, 0, None, None)
    data = np.asarray(values, dtype=float)
    if len(data) == 1:
        return Interval(float(data[0]), 1, None, None)
    seed = abs(hash(tuple(np.round(data, 6)))) % (2**32)
    rng = np.random.default_rng(seed)
    means = rng.choice(data, size=(resamples, len(data)), replace=True).mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(data.mean()), len(data), float(low), float(high))


def spread(values: Sequence[float]) -> float | None:
    """The sample standard deviation (None below two values)."""
    return float(np.std(values, ddof=1)) if len(values) >= 2 else None


def threshold(deliveries_per_year: float, false_alarms_per_year: float, metrics: int = 3) -> float:
    """The CUSUM threshold h by Lorden's bound alone: a CUSUM of likelihood ratios runs at least e^h
    observations between false alarms, so h = ln(deliveries per year × metrics / false alarms per
    year) keeps a supplier that did not change within the budget (conservative: the bench measures
    far fewer false alarms at this h; ``siegmund_threshold`` is what the desk uses)."""
    return math.log(target_arl(deliveries_per_year, false_alarms_per_year, metrics))


def target_arl(deliveries_per_year: float, false_alarms_per_year: float, metrics: int = 3) -> float:
    """Deliveries a supplier that did not change should go, on average, between false alarms of one
    metric: its pace over its share of the yearly false-alarm budget."""
    return max(deliveries_per_year, 1.0) * max(1, metrics) / false_alarms_per_year


@lru_cache(maxsize=8192)  # the baseline changes rarely: one solve per baseline, not per delivery
def siegmund_threshold(arl0: float, p0: float, p1: float) -> float:
    """The h at which a Bernoulli CUSUM for ``p0`` → ``p1`` runs ``arl0`` observations between false
    alarms on average, by Siegmund's approximation ARL0 ≈ (e^h − h − 1) / |E₀[step]|, solved by
    bisection (the steps' mean under p0 is minus the Kullback-Leibler divergence of p0 from p1)."""
    drift = p0 * math.log(p0 / p1) + (1 - p0) * math.log((1 - p0) / (1 - p1))
    wanted = arl0 * drift
    low, high = 0.0, 50.0
    for _ in range(60):
        middle = (low + high) / 2
        if math.exp(middle) - middle - 1 < wanted:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True)
class Drop:
    """An alarm of the detector: where, against what, how sure."""

    index: int
    """The observation at which it alarmed."""
    since: int
    """The first observation of the excursion that alarmed (the estimated change point)."""
    baseline_rate: float
    """The bad-outcome rate before (the baseline the test compared with)."""
    recent_rate: float
    """The bad-outcome rate from ``since`` to the alarm."""
    recent_count: int
    statistic: float
    threshold: float
    probability: float
    """Posterior probability that the recent rate is above the baseline (Beta-binomial, Jeffreys priors)."""


def _baseline(bad: int, n: int, caution: float) -> float:
    """The baseline rate judged against: the ``caution`` quantile of the Beta(bad + ½, good + ½)
    posterior (0.5: about its median). Above the median, a baseline learnt from few deliveries is
    given the benefit of the doubt, so its noise is not taken for a drop."""
    if caution == 0.5:
        return (bad + 0.5) / (n + 1)
    return float(_distributions().beta.ppf(caution, bad + 0.5, n - bad + 0.5))


def _odds_shift(p0: float, odds_ratio: float) -> float:
    odds = p0 / (1 - p0) * odds_ratio
    return odds / (1 + odds)


def cusum_drops(
    bad: Sequence[bool],
    *,
    threshold: float | Sequence[float] | None = None,
    arl0: float | Sequence[float] | None = None,
    odds_ratio: float = 3.0,
    baseline_min: int = 12,
    caution: float = 0.5,
) -> list[Drop]:
    """Every alarm of a self-starting Bernoulli CUSUM over ``bad`` outcomes, in order.

    Before ``baseline_min`` outcomes of baseline nothing is judged. The baseline is every outcome
    since the last alarm (or the start) that is not part of the current excursion (the statistic
    above 0), with Jeffreys' ½ added to both counts so a clean record of 12 is not judged as a
    rate of 0. Give a fixed ``threshold``, or ``arl0`` — the outcomes wanted between false alarms —
    for the threshold of the current baseline by ``siegmund_threshold``; each is one value or one
    per outcome.
    """

    def each(value: float | Sequence[float] | None) -> list[float | None]:
        if value is None or isinstance(value, int | float):
            return [value] * len(bad)
        return list(value)

    limits, arls = each(threshold), each(arl0)
    drops: list[Drop] = []
    base_bad = base_n = 0
    pending: list[bool] = []
    statistic = 0.0
    for index, outcome in enumerate(bad):
        if base_n < baseline_min:
            base_bad += int(outcome)
            base_n += 1
            continue
        p0 = _baseline(base_bad, base_n, caution)
        p1 = _odds_shift(p0, odds_ratio)
        limit = limits[index]
        if limit is None:
            arl = arls[index]
            if arl is None:
                raise ValueError("give threshold or arl0")
            limit = siegmund_threshold(arl, p0, p1)
        step = math.log(p1 / p0) if outcome else math.log((1 - p1) / (1 - p0))
        statistic = max(0.0, statistic + step)
        pending.append(outcome)
        if statistic == 0.0:
            # the excursion is over: what it held was ordinary, fold it into the baseline
            base_bad += sum(pending)
            base_n += len(pending)
            pending = []
            continue
        if statistic > limit:
            recent_bad = sum(pending)
            drops.append(
                Drop(
                    index=index,
                    since=index - len(pending) + 1,
                    baseline_rate=base_bad / base_n,
                    recent_rate=recent_bad / len(pending),
                    recent_count=len(pending),
                    statistic=statistic,
                    threshold=limit,
                    probability=prob_worse(recent_bad, len(pending), base_bad, base_n),
                )
            )
            # a new baseline from the excursion on: the drop is reported once; its level becomes the norm
            base_bad, base_n = recent_bad, len(pending)
            pending = []
            statistic = 0.0
    return drops


def prob_worse(recent_bad: int, recent_n: int, base_bad: int, base_n: int, draws: int = 20000) -> float:
    """P(recent bad rate > baseline bad rate) under independent Beta(½ + bad, ½ + good) posteriors,
    by a seeded Monte Carlo (exact enough to say 0.97 rather than 0.9712)."""
    rng = np.random.default_rng(recent_bad * 7919 + recent_n * 104729 + base_bad * 31 + base_n)
    recent = rng.beta(recent_bad + 0.5, recent_n - recent_bad + 0.5, draws)
    base = rng.beta(base_bad + 0.5, base_n - base_bad + 0.5, draws)
    return float(np.mean(recent > base))


def fixed_threshold_alarms(periods: Sequence[tuple[int, int]], *, limit: float, min_count: int = 1) -> list[int]:
    """The periods a fixed-threshold rule alarms in: the period's bad share above ``limit`` (what
    calendar scorecards do). ``periods`` are ``(bad, deliveries)``."""
    return [i for i, (b, n) in enumerate(periods) if n >= min_count and b / n > limit]


def years_between(first: datetime, last: datetime) -> float:
    """Years from ``first`` to ``last`` (at least a day's worth)."""
    return max((last - first).total_seconds() / (365.25 * 86400), 1 / 365.25)
