"""Why returns happen: how many orders come back, the reasons customers give overall and per SKU,
their weekly trend, and findings — a reason spiking on one SKU — for the dashboard and the API.

A return counts when it was asked for in the period (``requested_at``, the customer's own time)
and is not refused or rejected (its units count as returned: ``COUNTED_STATES``). Its reason is
the category a person corrected it to, else the desk's reading. A return counts once for each SKU
it sends back (lines of SKUs that were not in the order are left out).

**The finding rule** (``FindingRule``): SKU *s* is flagged for reason *r* when, in the last
``recent_days`` (14) up to the end of the period, at least ``min_returns`` (3) of *s*'s returns
give *r*, and the share of *s*'s returns giving *r* is at least ``factor`` (3) times that share
in the ``baseline_days`` (84) before them. Shares are compared exactly (whole numbers, no
rounding). A SKU with no returns in the baseline has a share of 0 there, so three returns for one
reason in two weeks are enough: a new product returned three times for the same reason deserves a
look. The windows do not depend on the period shown: a finding is about now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from storeops.desks.inventory import api as inventory_api
from storeops.desks.orders import api as orders_api
from storeops.desks.returns.tables import COUNTED_STATES, returns

REASON_WORDS = {
    "size_fit": "size or fit",
    "damaged_defective": "damaged or defective",
    "not_as_described": "not as described",
    "wrong_item": "wrong item sent",
    "arrived_late": "arrived late",
    "changed_mind": "changed their mind",
    "other": "another reason",
}
"""Each reason category in plain words (an unknown one reads as its name)."""


def reason_words(reason: str) -> str:
    """``reason`` as a person reads it."""
    return REASON_WORDS.get(reason, reason.replace("_", " "))


@dataclass(frozen=True)
class FindingRule:
    """When a reason is spiking on a SKU (see the module's docstring)."""

    recent_days: int = 14
    baseline_days: int = 84
    factor: int = 3
    min_returns: int = 3

    def as_json(self) -> dict[str, int]:
        return {
            "recent_days": self.recent_days,
            "baseline_days": self.baseline_days,
            "factor": self.factor,
            "min_returns": self.min_returns,
        }


@dataclass(frozen=True)
class ReasonCount:
    """How many returns gave a reason, and their share of the returns counted with it."""

    reason: str
    count: int
    share: float

    def as_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "count": self.count, "share": round(self.share, 3)}


@dataclass(frozen=True)
class SkuReasons:
    """A SKU's returns in the period and the reasons given, most frequent first."""

    sku: str
    title: str | None
    returns: int
    reasons: tuple[ReasonCount, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "title": self.title,
            "returns": self.returns,
            "reasons": [reason.as_json() for reason in self.reasons],
        }


@dataclass(frozen=True)
class WeekReasons:
    """Returns asked for in one week (from Monday, UTC), by reason."""

    week: date
    reasons: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.reasons.values())

    def as_json(self) -> dict[str, Any]:
        return {"week": self.week.isoformat(), "total": self.total, "reasons": dict(self.reasons)}


@dataclass(frozen=True)
class Finding:
    """Reason ``reason`` spiking on SKU ``sku`` (``FindingRule``)."""

    sku: str
    title: str | None
    reason: str
    recent_count: int
    recent_total: int
    """The SKU's returns in the recent window (any reason)."""
    before_count: int
    before_total: int
    """The SKU's returns in the baseline window (any reason)."""
    rule: FindingRule

    @property
    def recent_share(self) -> float:
        return self.recent_count / self.recent_total

    @property
    def before_share(self) -> float:
        return self.before_count / self.before_total if self.before_total else 0.0

    @property
    def text(self) -> str:
        """The finding in one sentence."""
        name = f"{self.sku} ({self.title})" if self.title else self.sku
        said = (
            f"{name}: {self.recent_count} of its {self.recent_total} returns in the last {self.rule.recent_days} "
            f"days were {reason_words(self.reason)} ({self.recent_share:.0%})"
        )
        weeks = self.rule.baseline_days // 7
        if not self.before_total:
            return f"{said}; it had no returns in the {weeks} weeks before."
        return f"{said}, against {self.before_share:.0%} of {self.before_total} in the {weeks} weeks before."

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "title": self.title,
            "reason": self.reason,
            "recent_count": self.recent_count,
            "recent_total": self.recent_total,
            "recent_share": round(self.recent_share, 3),
            "before_count": self.before_count,
            "before_total": self.before_total,
            "before_share": round(self.before_share, 3),
            "text": self.text,
        }


@dataclass(frozen=True)
class ReturnInsights:
    """Why returns happened between ``since`` (included) and ``until`` (excluded)."""

    since: datetime
    until: datetime
    returns: int
    orders_shipped: int
    """Orders the carrier first had in the period."""
    reasons: tuple[ReasonCount, ...]
    skus: tuple[SkuReasons, ...]
    """The SKUs returned most, most first."""
    weeks: tuple[WeekReasons, ...]
    findings: tuple[Finding, ...]
    rule: FindingRule

    @property
    def return_rate(self) -> float | None:
        """Returns per order shipped in the period (None when none shipped). Returns asked for in the
        period may be of orders shipped before it: the rate is a ratio of two counts, not a share of
        the period's orders."""
        return self.returns / self.orders_shipped if self.orders_shipped else None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON (docs/web.md, ``GET /api/v1/returns/insights``)."""
        rate = self.return_rate
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "returns": self.returns,
            "orders_shipped": self.orders_shipped,
            "return_rate": round(rate, 4) if rate is not None else None,
            "reasons": [reason.as_json() for reason in self.reasons],
            "skus": [sku.as_json() for sku in self.skus],
            "weeks": [week.as_json() for week in self.weeks],
            "findings": [finding.as_json() for finding in self.findings],
            "rule": self.rule.as_json(),
        }


@dataclass(frozen=True)
class _Return:
    at: datetime
    reason: str
    skus: frozenset[str]


def _read(conn: Connection, since: datetime, until: datetime) -> list[_Return]:
    rows = conn.execute(
        select(returns.c.requested_at, returns.c.lines, returns.c.reason_category, returns.c.reason_corrected).where(
            returns.c.requested_at >= since, returns.c.requested_at < until, returns.c.state.in_(COUNTED_STATES)
        )
    )
    found = []
    for at, lines, category, corrected in rows:
        skus = frozenset(
            str(line["sku"]) for line in lines or [] if int(line.get("accepted", line.get("quantity", 0)) or 0) > 0
        )
        found.append(_Return(at, str(corrected or category or "other"), skus))
    return found


def _ranked(counts: Mapping[str, int], total: int) -> tuple[ReasonCount, ...]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ReasonCount(reason, count, count / total) for reason, count in ordered if count)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(found: Iterable[_Return], since: datetime, until: datetime) -> tuple[WeekReasons, ...]:
    first, last = _monday(since.date()), _monday((until - timedelta(microseconds=1)).date())
    by_week: dict[date, Counter[str]] = {}
    day = first
    while day <= last:
        by_week[day] = Counter()
        day += timedelta(days=7)
    for item in found:
        by_week.setdefault(_monday(item.at.date()), Counter())[item.reason] += 1
    return tuple(WeekReasons(week, dict(sorted(counts.items()))) for week, counts in sorted(by_week.items()))


def _spikes(found: Sequence[_Return], until: datetime, rule: FindingRule) -> tuple[Finding, ...]:
    """Reasons spiking on a SKU as of ``until`` (``FindingRule``), most returns first (untitled)."""
    cut = until - timedelta(days=rule.recent_days)
    start = cut - timedelta(days=rule.baseline_days)
    recent: Counter[tuple[str, str]] = Counter()
    recent_totals: Counter[str] = Counter()
    before: Counter[tuple[str, str]] = Counter()
    before_totals: Counter[str] = Counter()
    for item in found:
        if cut <= item.at < until:
            pairs, totals = recent, recent_totals
        elif start <= item.at < cut:
            pairs, totals = before, before_totals
        else:
            continue
        for sku in item.skus:
            pairs[(sku, item.reason)] += 1
            totals[sku] += 1
    findings = []
    for (sku, reason), count in recent.items():
        if count < rule.min_returns:
            continue
        # recent share ≥ factor × baseline share, as whole numbers:
        # count / recent_total ≥ factor × before_count / before_total
        if count * before_totals[sku] >= rule.factor * before[(sku, reason)] * recent_totals[sku]:
            findings.append(
                Finding(
                    sku=sku,
                    title=None,
                    reason=reason,
                    recent_count=count,
                    recent_total=recent_totals[sku],
                    before_count=before[(sku, reason)],
                    before_total=before_totals[sku],
                    rule=rule,
                )
            )
    return tuple(sorted(findings, key=lambda f: (-f.recent_count, -f.recent_share, f.sku, f.reason)))


def why_returns_happen(
    conn: Connection,
    *,
    since: datetime,
    until: datetime,
    top_skus: int = 8,
    rule: FindingRule | None = None,
) -> ReturnInsights:
    """Returns asked for between ``since`` (included) and ``until`` (excluded): the return rate, the
    reasons overall and for the ``top_skus`` SKUs returned most, the weekly trend by reason, and the
    findings as of ``until``."""
    rule = rule or FindingRule()
    window_start = until - timedelta(days=rule.recent_days + rule.baseline_days)
    read = _read(conn, min(since, window_start), until)
    period = [item for item in read if since <= item.at < until]
    overall: Counter[str] = Counter(item.reason for item in period)
    per_sku: Counter[str] = Counter()
    per_pair: Counter[tuple[str, str]] = Counter()
    for item in period:
        for sku in item.skus:
            per_sku[sku] += 1
            per_pair[(sku, item.reason)] += 1
    top = sorted(per_sku.items(), key=lambda item: (-item[1], item[0]))[:top_skus]
    spiking = _spikes(read, until, rule)
    titles = inventory_api.titles(conn, sorted({sku for sku, _ in top} | {f.sku for f in spiking}))
    skus = tuple(
        SkuReasons(
            sku=sku,
            title=titles.get(sku),
            returns=count,
            reasons=_ranked({reason: n for (s, reason), n in per_pair.items() if s == sku}, count),
        )
        for sku, count in top
    )
    return ReturnInsights(
        since=since,
        until=until,
        returns=len(period),
        orders_shipped=orders_api.shipped_count(conn, since, until),
        reasons=_ranked(overall, len(period)),
        skus=skus,
        weeks=_weeks(period, since, until),
        findings=tuple(replace(finding, title=titles.get(finding.sku)) for finding in spiking),
        rule=rule,
    )


def figures(conn: Connection, since: datetime | None, until: datetime | None) -> dict[str, float | None]:
    """The returns desk's own figures for the owner's report (``Desk.figures``): ``return_rate``
    (returns asked for per order shipped in the period) and ``returns_refunded_automatically`` (the
    share of the period's refunded returns no person had to approve)."""
    if since is None or until is None:
        return {"return_rate": None, "returns_refunded_automatically": None}
    seen = why_returns_happen(conn, since=since, until=until, top_skus=0)
    refunded = (
        conn.execute(
            select(returns.c.approved).where(
                returns.c.state == "refunded", returns.c.refunded_at >= since, returns.c.refunded_at < until
            )
        )
        .scalars()
        .all()
    )
    rate = seen.return_rate
    return {
        "return_rate": round(rate, 4) if rate is not None else None,
        "returns_refunded_automatically": round(sum(1 for approved in refunded if not approved) / len(refunded), 4)
        if refunded
        else None,
    }


DEFECT_REASONS = ("damaged_defective", "not_as_described")
"""Reasons that speak of the product as the supplier made it (the vendors desk's defect rate)."""


@dataclass(frozen=True)
class VendorDefects:
    """One supplier's returned units over a period, and how many of them came back for a defect."""

    supplier: str
    units_returned: int
    defect_units: int
    by_reason: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        """``{"supplier", "units_returned", "defect_units", "by_reason"}``."""
        return {
            "supplier": self.supplier,
            "units_returned": self.units_returned,
            "defect_units": self.defect_units,
            "by_reason": dict(self.by_reason),
        }


def vendor_defects(conn: Connection, *, since: datetime, until: datetime) -> list[VendorDefects]:
    """Returned units per supplier (from the catalogue) asked for between ``since`` and ``until``,
    with those whose reason (a person's correction, else the desk's reading) is a defect: what the
    vendors desk scores defect rates with. SKUs with no supplier are left out."""
    rows = conn.execute(
        select(returns.c.lines, returns.c.reason_category, returns.c.reason_corrected).where(
            returns.c.requested_at >= since, returns.c.requested_at < until, returns.c.state.in_(COUNTED_STATES)
        )
    ).all()
    units: list[tuple[str, int, str]] = []
    for lines, reading, corrected in rows:
        reason = str(corrected or reading or "other")
        units += [
            (str(line["sku"]), int(line.get("accepted", 0)), reason) for line in lines or [] if line.get("accepted")
        ]
    supplier_of = inventory_api.suppliers(conn, [sku for sku, _, _ in units])
    totals: dict[str, Counter[str]] = {}
    for sku, count, reason in units:
        if sku in supplier_of:
            totals.setdefault(supplier_of[sku], Counter())[reason] += count
    return [
        VendorDefects(
            supplier=name,
            units_returned=sum(counts.values()),
            defect_units=sum(counts[reason] for reason in DEFECT_REASONS),
            by_reason=dict(sorted(counts.items())),
        )
        for name, counts in sorted(totals.items())
    ]
