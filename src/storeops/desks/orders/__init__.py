"""Orders desk: validate, score risk, route, label and track; hand exceptions to a person."""

from __future__ import annotations

from storeops.desks.orders.events import KINDS
from storeops.desks.orders.policy import OrdersPolicy
from storeops.desks.orders.reasons import OrderReason
from storeops.engine.desk import Desk

DESK = Desk(
    name="orders",
    kinds=KINDS,
    reasons=OrderReason,
    policy=OrdersPolicy,
    default_role="ops",
    manual_minutes={"order.review": 4.0},
)
