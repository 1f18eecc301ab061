"""The owner's figures, computed from the audit log (and the queue for unhandled events)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from storeops.engine.decisions import Outcome
from storeops.engine.policy import Policy
from storeops.engine.queue import DeliveryStatus
from storeops.storage.schema import audit_log, deliveries, events, handoffs


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0–100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


DeskFigures = Callable[[Connection, datetime | None, datetime | None], dict[str, float | None]]
"""``Desk.figures``: a desk's own figures over a period ``(conn, since, until)``."""


@dataclass
class DeskReport:
    """One desk's figures over the period."""

    desk: str
    events: int = 0
    automatic: int = 0
    handed_off: int = 0
    unhandled: int = 0
    dead: int = 0
    human_actions: int = 0
    automation_rate: float | None = None
    handoffs_by_reason: dict[str, int] = field(default_factory=dict)
    decision_latency_ms_p50: float | None = None
    decision_latency_ms_p99: float | None = None
    resolution_minutes_p50: float | None = None
    handoffs_open: int = 0
    errors_caught: int = 0
    """Handoffs a person resolved by rejecting or modifying: exceptions that were real."""
    time_saved_minutes: float = 0.0
    figures: dict[str, float | None] = field(default_factory=dict)
    """The desk's own figures (``Desk.figures``), e.g. the orders desk's fulfilment accuracy."""


@dataclass
class Report:
    """Figures per desk and overall."""

    since: str | None
    until: str | None
    desks: list[DeskReport]
    overall: DeskReport
    fulfilment_accuracy: float | None = None
    """Share of orders sent to fulfilment that shipped without a shipping irregularity: the figure
    of that name a desk reports (the orders desk), kept at the top as the owner reads it."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the shape of ``storeops report --json``)."""
        return {
            "since": self.since,
            "until": self.until,
            "desks": [asdict(d) for d in self.desks],
            "overall": asdict(self.overall),
            "fulfilment_accuracy": self.fulfilment_accuracy,
        }


def compute_report(
    conn: Connection,
    policy: Policy,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    desk_names: list[str] | None = None,
    only_desks: list[str] | None = None,
    desk_figures: Mapping[str, DeskFigures] | None = None,
) -> Report:
    """Per-desk and overall figures for the period [since, until), by when things happened:
    decisions by their event's own time (``occurred_at``), handoffs by when they arose, so a
    replayed or imported history counts on its own days.

    ``only_desks`` restricts every figure, the overall ones included, to those desks (a role's
    dashboard, or one desk chosen on it). ``desk_figures`` are the desks' own figures
    (``Desk.figures``), each computed over the same period.
    """
    by_desk: dict[str, DeskReport] = {name: DeskReport(desk=name) for name in desk_names or []}
    latencies: dict[str, list[float]] = defaultdict(list)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)

    def desk(name: str) -> DeskReport:
        return by_desk.setdefault(name, DeskReport(desk=name))

    audit_filter: list[ColumnElement[bool]] = [] if only_desks is None else [audit_log.c.desk.in_(only_desks)]
    if since is not None:
        audit_filter.append(audit_log.c.occurred_at >= since)
    if until is not None:
        audit_filter.append(audit_log.c.occurred_at < until)

    counts = conn.execute(
        select(audit_log.c.desk, audit_log.c.outcome, audit_log.c.task, func.count())
        .where(*audit_filter, audit_log.c.event_id.is_not(None))
        .group_by(audit_log.c.desk, audit_log.c.outcome, audit_log.c.task)
    ).all()
    for name, outcome, task, count in counts:
        report = desk(name)
        if outcome == Outcome.AUTOMATIC.value:
            report.automatic += count
            report.time_saved_minutes += count * policy.manual_minutes.get(task or "", 0.0)
        elif outcome == Outcome.HANDOFF.value:
            report.handed_off += count

    human = conn.execute(
        select(audit_log.c.desk, func.count())
        .where(*audit_filter, audit_log.c.outcome == Outcome.HUMAN.value)
        .group_by(audit_log.c.desk)
    ).all()
    for name, count in human:
        desk(name).human_actions += count

    for name, reason_list, latency in conn.execute(
        select(audit_log.c.desk, audit_log.c.reasons, audit_log.c.latency_ms).where(
            *audit_filter, audit_log.c.event_id.is_not(None)
        )
    ):
        if latency is not None:
            latencies[name].append(float(latency))
        if reason_list:
            reasons[name].update(reason_list)

    event_filter: list[ColumnElement[bool]] = [] if only_desks is None else [deliveries.c.desk.in_(only_desks)]
    if since is not None:
        event_filter.append(events.c.occurred_at >= since)
    if until is not None:
        event_filter.append(events.c.occurred_at < until)
    for name, status, count in conn.execute(
        select(deliveries.c.desk, deliveries.c.status, func.count())
        .select_from(deliveries.join(events, events.c.id == deliveries.c.event_id))
        .where(*event_filter, deliveries.c.status.in_([DeliveryStatus.UNHANDLED.value, DeliveryStatus.DEAD.value]))
        .group_by(deliveries.c.desk, deliveries.c.status)
    ):
        if status == DeliveryStatus.UNHANDLED.value:
            desk(name or "engine").unhandled += count
        else:
            desk(name or "engine").dead += count

    waits: dict[str, list[float]] = defaultdict(list)
    handoff_filter: list[ColumnElement[bool]] = [] if only_desks is None else [handoffs.c.desk.in_(only_desks)]
    if since is not None:
        handoff_filter.append(handoffs.c.created_at >= since)
    if until is not None:
        handoff_filter.append(handoffs.c.created_at < until)
    for name, state, created, resolved, resolution in conn.execute(
        select(
            handoffs.c.desk, handoffs.c.state, handoffs.c.created_at, handoffs.c.resolved_at, handoffs.c.resolution
        ).where(*handoff_filter)
    ):
        if state in ("open", "claimed"):
            desk(name).handoffs_open += 1
        elif state == "resolved" and resolved is not None:
            waits[name].append((resolved - created).total_seconds() / 60)
            if resolution in ("reject", "modify"):
                desk(name).errors_caught += 1

    overall = DeskReport(desk="all")
    all_latencies: list[float] = []
    all_waits: list[float] = []
    all_reasons: Counter[str] = Counter()
    for name, report in by_desk.items():
        report.events = report.automatic + report.handed_off + report.unhandled + report.dead
        decided = report.automatic + report.handed_off
        report.automation_rate = round(report.automatic / decided, 4) if decided else None
        report.handoffs_by_reason = dict(reasons[name].most_common())
        report.decision_latency_ms_p50 = percentile(latencies[name], 50)
        report.decision_latency_ms_p99 = percentile(latencies[name], 99)
        report.resolution_minutes_p50 = _round(percentile(waits[name], 50))
        report.time_saved_minutes = round(report.time_saved_minutes, 1)
        for attr in (
            "events",
            "automatic",
            "handed_off",
            "unhandled",
            "dead",
            "human_actions",
            "handoffs_open",
            "errors_caught",
        ):
            setattr(overall, attr, getattr(overall, attr) + getattr(report, attr))
        overall.time_saved_minutes += report.time_saved_minutes
        all_latencies += latencies[name]
        all_waits += waits[name]
        all_reasons.update(reasons[name])
    decided = overall.automatic + overall.handed_off
    overall.automation_rate = round(overall.automatic / decided, 4) if decided else None
    overall.handoffs_by_reason = dict(all_reasons.most_common())
    overall.decision_latency_ms_p50 = percentile(all_latencies, 50)
    overall.decision_latency_ms_p99 = percentile(all_latencies, 99)
    overall.resolution_minutes_p50 = _round(percentile(all_waits, 50))
    overall.time_saved_minutes = round(overall.time_saved_minutes, 1)
    accuracy = None
    for name, figures_of in (desk_figures or {}).items():
        if only_desks is not None and name not in only_desks:
            continue
        own = figures_of(conn, since, until)
        desk(name).figures = own
        accuracy = own.get("fulfilment_accuracy", accuracy)
    return Report(
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        desks=sorted(by_desk.values(), key=lambda r: r.desk),
        overall=overall,
        fulfilment_accuracy=accuracy,
    )


def action_subjects(
    conn: Connection, desk: str, actions: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, int]:
    """How many distinct subjects had each of ``actions`` in ``desk``'s audit rows over the period
    (by when things happened): what a desk counts its own figures from."""
    where: list[ColumnElement[bool]] = [audit_log.c.desk == desk, audit_log.c.action.in_(list(actions))]
    if since is not None:
        where.append(audit_log.c.occurred_at >= since)
    if until is not None:
        where.append(audit_log.c.occurred_at < until)
    rows = conn.execute(
        select(audit_log.c.action, func.count(func.distinct(audit_log.c.subject)))
        .where(*where)
        .group_by(audit_log.c.action)
    ).all()
    return {str(action): int(count) for action, count in rows}


@dataclass
class DayFigures:
    """One UTC day's decisions."""

    day: str
    automatic: int = 0
    handed_off: int = 0
    human: int = 0


def daily_figures(
    conn: Connection, *, since: datetime, until: datetime, desks: list[str] | None = None
) -> list[DayFigures]:
    """Decisions per UTC day in [since, until) of when they happened (``occurred_at``), every
    day present (zeros included), for charts."""
    day = func.date(audit_log.c.occurred_at)
    where = [audit_log.c.occurred_at >= since, audit_log.c.occurred_at < until]
    if desks is not None:
        where.append(audit_log.c.desk.in_(desks))
    days: dict[str, DayFigures] = {}
    current = since.date()
    while current < until.date() or current == until.date():
        days[current.isoformat()] = DayFigures(day=current.isoformat())
        current += timedelta(days=1)
    for value, outcome, count in conn.execute(
        select(day, audit_log.c.outcome, func.count()).where(*where).group_by(day, audit_log.c.outcome)
    ):
        key = str(value)[:10]
        figures = days.setdefault(key, DayFigures(day=key))
        if outcome == Outcome.AUTOMATIC.value:
            figures.automatic += count
        elif outcome == Outcome.HANDOFF.value:
            figures.handed_off += count
        elif outcome == Outcome.HUMAN.value:
            figures.human += count
    return [days[key] for key in sorted(days)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
