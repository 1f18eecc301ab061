"""A simulated ops person who works the orders and returns desks' inboxes, so a simulated store's
history shows people's resolutions, held orders that ship once approved and held returns whose
customers get their label once approved.

They know what a person would find out by checking (the ground truth): an order from a
fraudster is rejected, any other held order approved; a carrier problem is acknowledged. A
return that fits a pattern of abuse (a serial returner, an item that was not in the order, an
empty box, a worn item) is rejected, as is one outside the policy that does not ask for an
exception (asked after the window, or damaged by the customer); one asking for an exception is
granted as goodwill, and any other (a large refund) approved. An order storeops could not make
valid (``order_invalid``) is left for the store's own people, as are the support and inventory
desks' handoffs (approving a purchase order here would order from suppliers the simulation does
not make deliver it). Each case is taken up between 15 minutes and 6 hours after it arose —
mostly within the default 4-hour SLA, not always — the delay drawn from the case's own random
stream.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, and_, or_, select

from storeops.engine.inbox import ACTIVE, resolve_handoff
from storeops.errors import Conflict
from storeops.storage.schema import handoffs

if TYPE_CHECKING:
    from storeops.simulate.run import Simulation

ACTOR = "user:sim-ops"
"""Who the simulated person is in the audit log."""
LEFT_ALONE = frozenset({"order_invalid"})


class OpsTeam:
    """Resolves the orders and returns desks' handoffs on one simulation's orders and returns by
    their ground truth."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation

    def work(self, engine: Engine, *, until: datetime) -> int:
        """Resolve every open handoff whose turn comes before ``until``, at that simulated moment;
        returns how many were resolved (a worker then lets the desk resume)."""
        orders_prefix, returns_prefix = self.simulation.order_prefix, self.simulation.return_prefix
        world = self.simulation.world
        seed = world.seed
        resolved = 0
        with engine.begin() as conn:
            rows = conn.execute(
                select(handoffs.c.id, handoffs.c.desk, handoffs.c.subject, handoffs.c.reasons, handoffs.c.created_at)
                .where(
                    handoffs.c.state.in_(ACTIVE),
                    or_(
                        and_(
                            handoffs.c.desk == "orders", handoffs.c.subject.startswith(orders_prefix, autoescape=True)
                        ),
                        and_(
                            handoffs.c.desk == "returns", handoffs.c.subject.startswith(returns_prefix, autoescape=True)
                        ),
                    ),
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
                if row.desk == "returns":
                    resolution, note = self._decide_return(row.subject)
                else:
                    resolution, note = self._decide(row.subject, reasons)
                try:
                    resolve_handoff(conn, row.id, resolution, ACTOR, note=note, now=when)
                except Conflict:
                    continue  # someone else resolved it meanwhile
                resolved += 1
                story = world.returns.get(row.subject.removeprefix("return:")) if row.desk == "returns" else None
                if story is not None and resolution == "reject":
                    story["turned_down"] = until  # the store's answer counts from the day's end
        return resolved

    def _decide_return(self, subject: str) -> tuple[str, str]:
        labels = self.simulation.labels.get(subject, set())
        if "suspicious_return_pattern" in labels:
            return "reject", "We checked this return and cannot accept it."
        if "outside_policy" in labels and "goodwill_request" not in labels:
            return "reject", "This return is outside our returns policy."
        if "goodwill_request" in labels:
            return "approve", "Granted as goodwill."
        return "approve", "Checked: genuine."

    def _decide(self, subject: str, reasons: set[str]) -> tuple[str, str]:
        if "shipping_irregularity" in reasons or "cancellation_too_late" in reasons:
            return "approve", "Asked the carrier and told the customer."
        if "fraud_signal" in self.simulation.labels.get(subject, set()):
            return "reject", "Could not verify the customer."
        return "approve", "Checked with the customer: genuine."


__all__ = ["ACTOR", "OpsTeam"]
