"""One worker against four on the same backlog: do they decide the same?

    python -m bench.determinism [--days 30] [--seed 9] [--start 2026-01-05] [--workers 1,4] [--json]

For each worker count, the simulation (``storeops simulate --days D --seed S --start DAY``) is
queued into a fresh PostgreSQL database with no worker running (a backlog), then that many
``storeops work`` processes decide it until the queue is empty. What they decided is compared
with the first count's: open handoffs by reason, audit outcomes (one per desk, subject and
action, counted), and stock levels per SKU and location. Every figure after the first run's
is a difference; 0 everywhere means the workers decided alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from bench.common import (
    REPO,
    console,
    fresh_postgres,
    pending,
    postgres_admin_url,
    print_results,
    spawn_workers,
    stop_workers,
    wait_until,
)
from storeops.desks.inventory.ledger import stock_levels
from storeops.storage.db import create_db_engine, read_only
from storeops.storage.migrate import upgrade
from storeops.storage.schema import audit_log, events, handoffs, timers

DESKS = "storeops.desks.orders:DESK,storeops.desks.support:DESK,storeops.desks.inventory:DESK"


@dataclass
class Outcomes:
    """What a run decided, in forms two runs can be compared by."""

    handoffs: Counter[str] = field(default_factory=Counter)
    """Handoffs by reason code (a handoff with two reasons counts under each)."""
    handoff_subjects: set[tuple[str, str, str]] = field(default_factory=set)
    """(desk, subject, reason) of every handoff."""
    audit: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(desk, subject, action) → how many audit rows say so (automation's decisions only)."""
    stock: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    """(sku, location) → (on hand, reserved)."""


def outcomes(conn: Connection) -> Outcomes:
    """Read a store's decisions: handoffs, automation's audit rows and stock levels."""
    out = Outcomes()
    for desk, subject, reasons in conn.execute(select(handoffs.c.desk, handoffs.c.subject, handoffs.c.reasons)):
        for reason in reasons:
            out.handoffs[reason] += 1
            out.handoff_subjects.add((desk, subject, reason))
    rows = conn.execute(
        select(audit_log.c.desk, audit_log.c.subject, audit_log.c.action).where(audit_log.c.actor.like("automation:%"))
    )
    for desk, subject, action in rows:
        out.audit[(desk, subject, action)] += 1
    for row in conn.execute(select(stock_levels)):
        out.stock[(row.sku, row.location)] = (row.on_hand, row.reserved)
    return out


@dataclass(frozen=True)
class Differences:
    """How a run's outcomes differ from a reference run's."""

    handoffs_total: int
    """Handoffs (counted per reason) in this run minus in the reference."""
    handoffs_by_reason: dict[str, int]
    """Reasons whose count differs → this run's minus the reference's."""
    handoff_subjects: int
    """(desk, subject, reason) handed off in one run and not the other."""
    audit: int
    """Audit outcomes (desk, subject, action) whose counts differ."""
    stock: int
    """SKU-locations whose on hand or reserved differ."""
    examples: list[str]
    """A few of the differences, readable."""

    @property
    def none(self) -> bool:
        """True when the two runs decided alike."""
        return not (self.handoffs_by_reason or self.handoff_subjects or self.audit or self.stock)


def compare(reference: Outcomes, other: Outcomes, examples: int = 8) -> Differences:
    """The differences of ``other`` from ``reference``."""
    reasons = set(reference.handoffs) | set(other.handoffs)
    by_reason = {r: other.handoffs[r] - reference.handoffs[r] for r in sorted(reasons)}
    by_reason = {r: d for r, d in by_reason.items() if d}
    subjects = reference.handoff_subjects ^ other.handoff_subjects
    audit_keys = {k for k in set(reference.audit) | set(other.audit) if reference.audit[k] != other.audit[k]}
    stock_keys = {k for k in set(reference.stock) | set(other.stock) if reference.stock.get(k) != other.stock.get(k)}
    first = reference.handoff_subjects
    shown = [
        f"handoff {desk} {subject} {reason}: only in the {'first' if key in first else 'other'} run"
        for key in sorted(subjects)[:examples]
        for desk, subject, reason in [key]
    ]
    shown += [
        f"stock {sku}@{location}: {reference.stock.get((sku, location))} → {other.stock.get((sku, location))}"
        for sku, location in sorted(stock_keys)[:examples]
    ]
    shown += [
        f"audit {desk} {subject} {action}: {reference.audit[(desk, subject, action)]} → "
        f"{other.audit[(desk, subject, action)]}"
        for desk, subject, action in sorted(audit_keys)[:examples]
    ]
    return Differences(
        handoffs_total=sum(other.handoffs.values()) - sum(reference.handoffs.values()),
        handoffs_by_reason=by_reason,
        handoff_subjects=len(subjects),
        audit=len(audit_keys),
        stock=len(stock_keys),
        examples=shown,
    )


def simulate(url: str, days: int, seed: int, start: str) -> None:
    """Queue the simulation into ``url`` with no worker running: a backlog."""
    env = {**os.environ, "STOREOPS_DATABASE_URL": url, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    command = ["simulate", "--days", str(days), "--seed", str(seed), "--start", start]
    subprocess.run(
        [sys.executable, "-m", "storeops.cli.main", *command],
        env=env,
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def idle(engine: Engine, clock: str = "wall") -> bool:
    """Nothing left to decide: no pending delivery and no timer due (a due timer becomes an event).
    On the events' clock a timer is due once an event at or after its time is stored."""
    if pending(engine):
        return False
    with read_only(engine).connect() as conn:
        now = datetime.now(UTC)
        if clock == "events":
            now = conn.execute(select(func.max(events.c.occurred_at))).scalar_one() or now
        due = conn.execute(select(func.count()).where(timers.c.fire_at <= now)).scalar_one()
    return not due


def run(url: str, workers: int, args: argparse.Namespace, policy: Path) -> Outcomes:
    """Simulate into ``url`` and decide the backlog with ``workers`` processes."""
    engine: Engine = create_db_engine(url, pool_size=2)
    upgrade(engine)
    simulate(url, args.days, args.seed, args.start)
    processes = spawn_workers(url, workers, DESKS, policy, "--no-outbox", "--clock", args.clock)
    try:
        # Follow-up events and timers land after the first drain: idle twice in a row is done.
        wait_until(lambda: idle(engine, args.clock), timeout=1800, interval=0.2)
        wait_until(lambda: idle(engine, args.clock), timeout=1800, interval=2.0)
    finally:
        stop_workers(processes)
    with read_only(engine).connect() as conn:
        found = outcomes(conn)
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--start", default="2026-01-05", help="first simulated day (a fixed past date)")
    parser.add_argument("--workers", default="1,4", help="worker counts; the first is the reference")
    parser.add_argument(
        "--clock",
        choices=("events", "wall"),
        default="events",
        help="the workers' timer clock (storeops work --clock): a backlog's timers fire in its own time",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    admin = postgres_admin_url()
    if admin is None:
        return
    counts = [int(n) for n in args.workers.split(",")]
    runs: list[Outcomes] = []
    with tempfile.TemporaryDirectory() as folder:
        policy = Path(folder) / "storeops.toml"
        policy.write_text("")
        for workers in counts:
            console.print(f"{args.days} days, seed {args.seed}: {workers} worker(s) deciding the backlog …")
            with fresh_postgres(admin) as url:
                runs.append(run(url, workers, args, policy))
    reference = runs[0]
    diffs = [compare(reference, other) for other in runs[1:]]
    for workers, diff in zip(counts[1:], diffs, strict=True):
        for line in diff.examples:
            console.print(f"  {workers} workers against {counts[0]}: {line}")
    label = [f"{n} worker{'s' if n != 1 else ''}" for n in counts]
    rows: list[dict[str, Any]] = [
        {"figure": "automation's decisions", **{k: sum(r.audit.values()) for k, r in zip(label, runs, strict=True)}},
        {"figure": "handoffs", **{k: sum(r.handoffs.values()) for k, r in zip(label, runs, strict=True)}},
    ]
    reasons = sorted({reason for r in runs for reason in r.handoffs})
    rows += [
        {"figure": f"  {reason}", **{k: r.handoffs[reason] for k, r in zip(label, runs, strict=True)}}
        for reason in reasons
    ]
    rows += [
        {"figure": "handoffs (desk, subject, reason) not in both", label[0]: 0}
        | {k: d.handoff_subjects for k, d in zip(label[1:], diffs, strict=True)},
        {"figure": "audit outcomes (desk, subject, action) differing", label[0]: 0}
        | {k: d.audit for k, d in zip(label[1:], diffs, strict=True)},
        {"figure": "stock levels (SKU, location) differing", label[0]: 0}
        | {k: d.stock for k, d in zip(label[1:], diffs, strict=True)},
    ]
    print_results(
        f"Determinism: {args.days}-day simulation, seed {args.seed}, a backlog decided by "
        f"{' and '.join(label)} (PostgreSQL)",
        ["figure", *label],
        rows,
        {"alike": all(d.none for d in diffs), "workers": counts},
        args.json,
    )


if __name__ == "__main__":
    main()
