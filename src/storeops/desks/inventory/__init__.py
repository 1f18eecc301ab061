"""Inventory desk: one stock ledger synced to every channel, reorders, unusual-activity alerts."""

from __future__ import annotations

from storeops.desks.inventory import handlers
from storeops.desks.inventory.events import KINDS
from storeops.desks.inventory.ledger import list_levels
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.reasons import InventoryReason
from storeops.engine.desk import Desk

DESK = Desk(
    name="inventory",
    kinds=KINDS,
    handlers={
        "stock.adjusted": handlers.stock_adjusted,
        "delivery.received": handlers.delivery_received,
        "stock.counted": handlers.stock_counted,
    },
    reasons=InventoryReason,
    policy=InventoryPolicy,
    default_role="procurement",
    objects=list_levels,
    manual_minutes={"inventory.movement": 1.0},
)
