"""A simulated ops person who works the orders desk's inbox, so a simulated store's history
shows people's resolutions and held orders that ship once approved.

They know what a person would find out by checking (the ground truth): an order from a
fraudster is rejected, any other held order approved; a carrier problem is acknowledged. An
order storeops could not make valid (``order_invalid``) is left for the store's own people, as
are the support and inventory desks' handoffs (approving a purchase order here would order from
suppliers the simulation does not make deliver it). Each case is taken up between 15 minutes
and 6 hours after it arose — mostly within the default 4-hour SLA, not always — the delay
drawn from the case's own random stream.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from storeops.engine.inbox import ACTIVE, resolve_handoff
from storeops.errors import Conflict
from storeops.storage.schema import handoffs

if TYPE_CHECKING:
    from storeops.simulate.run import Simulation

ACTOR = "user:sim-ops"
"""Who the simulated person is in the audit log."""
LEFT_ALONE = frozenset({"order_invalid"})


class OpsTeam:
    """Resolves the orders desk's handoffs on one simulation's orders by their ground truth."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation

    def work(self, engine: Engine, *, until: datetime) -> int:
        """Resolve every open handoff whose turn comes before ``until``, at that simulated moment;
        returns how many were resolved (a worker then lets the desk resume)."""
        prefix = self.simulation.order_prefix
        seed = self.simulation.world.seed
        resolved = 0
        with engine.begin() as conn:
            rows = conn.execute(
                select(handoffs.c.id, handoffs.c.subject, handoffs.c.reasons, handoffs.c.created_at)
                .where(
                    handoffs.c.state.in_(ACTIVE),
                    handoffs.c.desk == "orders",
                    handoffs.c.subject.startswith(prefix, autoescape=True),
                    handoffs.c.created_at < until,
                )
                .order_by(handoffs.c.created_at, handoffs.c.id)
            ).all()
            for row in rows:
                reasons = set(row.reasons)
                if reasons & LEFT_ALONE:
                    continue
                rng = random.Random(f"{seed}:ops:{row.subject}:{row.created_at.isoformat()}")
                when = row.created_at + timedelta(minutes=rng.randint(15, 360))
                if when >= until:
                    continue  # their turn comes on a later day
                resolution, note = self._decide(row.subject, reasons)
                try:
                    resolve_handoff(conn, row.id, resolution, ACTOR, note=note, now=when)
                except Conflict:
                    continue  # someone else resolved it meanwhile
                resolved += 1
        return resolved

    def _decide(self, subject: str, reasons: set[str]) -> tuple[str, str]:
        if "shipping_irregularity" in reasons or "cancellation_too_late" in reasons:
            return "approve", "Asked the carrier and told the customer."
        if "fraud_signal" in self.simulation.labels.get(subject, set()):
            return "reject", "Could not verify the customer."
        return "approve", "Checked with the customer: genuine."


__all__ = ["ACTOR", "OpsTeam"]
