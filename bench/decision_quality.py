"""Decision quality on simulator ground truth: precision and recall of each handoff reason.

    python -m bench.decision_quality [--days 60] [--seed 7] [--json]

A simulated store runs day by day through the engine with the built-in desks; every injected
situation has a ground-truth label (kept apart from what the desks see). A handoff reason is a
true positive when its subject carries that label. Reasons whose desk does not decide yet are
shown with no handoffs. The returns desk's reasons are broken down by pattern too (a suspicious
return's named pattern, what put a return outside the policy): the pattern in a handoff's evidence
against the pattern in the truth's detail.

Then where the handoffs ended: per desk, how many are still open (or claimed), resolved by the
simulated team, superseded because the world moved on, or expired; and how many are still open
on an order the carrier already has (shipped or delivered) — a handoff nobody can act on any more
(a shipping irregularity, about the parcel itself, is not one of them). Goal: none.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bench.common import console, print_results
from storeops.desks import builtin_desks
from storeops.desks.orders.tables import OrderStatus, orders
from storeops.desks.support.nlu import train_support_models
from storeops.engine.desk import Registry
from storeops.engine.inbox import HandoffState
from storeops.engine.models import DeskModels
from storeops.engine.policy import build_policy
from storeops.engine.worker import Worker, default_places
from storeops.simulate.run import replay
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import handoffs, sim_truth

ABOUT_THE_PARCEL = {"shipping_irregularity", "cancellation_too_late"}
"""Reasons about a parcel already on its way: open on a shipped order by their nature, so they
are not counted as handoffs the world has overtaken."""
BY_PATTERN = {"suspicious_return_pattern", "outside_policy"}
"""The returns desk's reasons that name a pattern in their evidence (and the simulator in its truth)."""


def evidence_patterns(reason: str, evidence: Mapping[str, Any]) -> set[str]:
    """The patterns a returns handoff's evidence names for ``reason``."""
    if reason == "suspicious_return_pattern":
        return {str(p.get("pattern")) for p in evidence.get("patterns") or [] if isinstance(p, Mapping)}
    found = set()
    if (evidence.get("window") or {}).get("late"):
        found.add("late")
    if evidence.get("final_sale"):
        found.add("final_sale")
    if evidence.get("damaged_by"):
        found.add("damaged_by_customer")
    if "state" in evidence and "condition" in evidence:
        found.add("unexpected_parcel")
    return found


def pattern_rows(
    truths: Iterable[tuple[str, str, Mapping[str, Any]]], raised: Iterable[tuple[str, list[str], Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """Precision and recall of each (reason, pattern) of the returns desk, counted per subject."""
    labelled: dict[tuple[str, str], set[str]] = defaultdict(set)
    for subject, label, detail in truths:
        if label in BY_PATTERN and detail.get("pattern"):
            labelled[(label, str(detail["pattern"]))].add(subject)
    flagged: dict[tuple[str, str], set[str]] = defaultdict(set)
    for subject, reasons, evidence in raised:
        for reason in set(reasons) & BY_PATTERN:
            for pattern in evidence_patterns(reason, evidence):
                flagged[(reason, pattern)].add(subject)
    rows = []
    for reason, pattern in sorted(labelled.keys() | flagged.keys()):
        truth, handed = labelled[(reason, pattern)], flagged[(reason, pattern)]
        hits = len(truth & handed)
        rows.append(
            {
                "reason": reason,
                "pattern": pattern,
                "truth": len(truth),
                "handoffs": len(handed),
                "correct": hits,
                "precision": round(hits / len(handed), 3) if handed else None,
                "recall": round(hits / len(truth), 3) if truth else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    desks = builtin_desks()
    console.print("training the support models on the shipped data …")
    trained = train_support_models("bench")
    registry = Registry(desks)
    policy = build_policy({}, desks)  # the defaults, as a new store has them
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{tmp}/quality.db")
        upgrade(engine)
        worker = Worker(
            engine, registry, policy, models=DeskModels(registry, default_places(), given={"support": trained})
        )
        console.print(f"simulating {args.days} days (seed {args.seed}) through the engine …")
        replay(engine, args.days, args.seed, start, worker, team=True, routes=registry)
        with engine.connect() as conn:
            truth: dict[str, set[str]] = defaultdict(set)
            details = []
            for subject, label, detail in conn.execute(
                select(sim_truth.c.subject, sim_truth.c.label, sim_truth.c.detail)
            ):
                truth[subject].add(label)
                details.append((subject, label, detail))
            flagged: dict[str, set[str]] = defaultdict(set)
            for subject, reasons in conn.execute(select(handoffs.c.subject, handoffs.c.reasons)):
                flagged[subject].update(reasons)
            patterns = pattern_rows(
                details,
                conn.execute(
                    select(handoffs.c.subject, handoffs.c.reasons, handoffs.c.evidence).where(
                        handoffs.c.desk == "returns"
                    )
                ).all(),
            )
            states: dict[str, dict[str, int]] = defaultdict(dict)
            for desk_name, state, n in conn.execute(
                select(handoffs.c.desk, handoffs.c.state, func.count()).group_by(handoffs.c.desk, handoffs.c.state)
            ):
                states[desk_name][state] = int(n)
            waiting = (HandoffState.OPEN.value, HandoffState.CLAIMED.value)
            gone = (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value)
            stale = [
                {"subject": subject, "reasons": list(reasons), "order_status": status}
                for subject, reasons, status in conn.execute(
                    select(handoffs.c.subject, handoffs.c.reasons, orders.c.status)
                    .select_from(handoffs.join(orders, orders.c.subject == handoffs.c.subject))
                    .where(handoffs.c.state.in_(waiting), orders.c.status.in_(gone))
                    .order_by(handoffs.c.id)
                )
                if not set(reasons) <= ABOUT_THE_PARCEL
            ]
        engine.dispose()
    lifecycle = [
        {
            "desk": desk.name,
            "open": states[desk.name].get(HandoffState.OPEN.value, 0) + states[desk.name].get("claimed", 0),
            "resolved": states[desk.name].get(HandoffState.RESOLVED.value, 0),
            "superseded": states[desk.name].get(HandoffState.SUPERSEDED.value, 0),
            "expired": states[desk.name].get(HandoffState.EXPIRED.value, 0),
        }
        for desk in desks
        if desk.name in states
    ]
    rows = []
    for desk in desks:
        if desk.reasons is None:
            continue
        for reason in desk.reasons:
            code = str(reason.value)
            labelled = {s for s, labels in truth.items() if code in labels}
            raised = {s for s, reasons in flagged.items() if code in reasons}
            hits = len(labelled & raised)
            rows.append(
                {
                    "desk": desk.name,
                    "reason": code,
                    "truth": len(labelled),
                    "handoffs": len(raised),
                    "correct": hits,
                    "precision": round(hits / len(raised), 3) if raised else None,
                    "recall": round(hits / len(labelled), 3) if labelled else None,
                }
            )
    print_results(
        f"where the handoffs ended ({len(stale)} still open on an order the carrier has)",
        ["desk", "open", "resolved", "superseded", "expired"],
        lifecycle,
        {},
        False,
    )
    for found in stale[:10]:
        console.print(f"  open on a {found['order_status']} order: {found['subject']} ({', '.join(found['reasons'])})")
    print_results(
        "returns desk by pattern",
        ["reason", "pattern", "truth", "handoffs", "correct", "precision", "recall"],
        patterns,
        {},
        False,
    )
    print_results(
        f"decision quality on {args.days} simulated days (seed {args.seed})",
        ["desk", "reason", "truth", "handoffs", "correct", "precision", "recall"],
        rows,
        {
            "days": args.days,
            "seed": args.seed,
            "lifecycle": lifecycle,
            "open_on_shipped_orders": len(stale),
            "open_on_shipped_examples": stale[:10],
            "returns_by_pattern": patterns,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
