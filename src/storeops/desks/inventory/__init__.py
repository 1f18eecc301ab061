"""Inventory desk: one stock ledger, forecast-driven reorders for a person to confirm, unusual-activity alerts."""

from __future__ import annotations

from storeops.desks.inventory import handlers
from storeops.desks.inventory.channels import push_changed
from storeops.desks.inventory.events import KINDS
from storeops.desks.inventory.ledger import list_levels
from storeops.desks.inventory.policy import InventoryPolicy
from storeops.desks.inventory.reasons import InventoryReason
from storeops.desks.inventory.resolutions import check_resolution
from storeops.engine.desk import Desk

DESK = Desk(
    name="inventory",
    kinds=KINDS,
    handlers={
        "stock.adjusted": handlers.stock_adjusted,
        "delivery.received": handlers.delivery_received,
        "stock.counted": handlers.stock_counted,
        "product.updated": handlers.product_updated,
        "channel.stock_reported": handlers.channel_stock_reported,
        "purchase_order.drafted": handlers.purchase_order_drafted,
        "stock.sales_anomaly": handlers.sales_anomaly,
    },
    on_handoff_resolved=handlers.handoff_resolved,
    on_timer=handlers.timer_fired,
    lock_keys=handlers.lock_keys,
    after_batch=push_changed,
    check_resolution=check_resolution,
    reasons=InventoryReason,
    policy=InventoryPolicy,
    default_role="procurement",
    objects=list_levels,
    manual_minutes={"inventory.movement": 1.0, "inventory.catalogue": 2.0, "inventory.reorder_run": 45.0},
)
