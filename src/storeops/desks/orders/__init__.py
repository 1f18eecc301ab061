"""Orders desk: validate, score risk, route, label and track; hand exceptions to a person."""

from __future__ import annotations

from storeops.desks.orders import handlers
from storeops.desks.orders.events import KINDS
from storeops.desks.orders.metrics import figures
from storeops.desks.orders.policy import OrdersPolicy
from storeops.desks.orders.reasons import OrderReason
from storeops.desks.orders.resolutions import check_resolution
from storeops.desks.orders.risk import load_models
from storeops.desks.orders.tables import list_orders
from storeops.engine.desk import Desk

DESK = Desk(
    name="orders",
    kinds=KINDS,
    handlers={
        "order.created": handlers.order_created,
        "order.updated": handlers.order_updated,
        "order.cancelled": handlers.order_cancelled,
        "order.cancel_requested": handlers.order_cancel_requested,
        "order.change_requested": handlers.order_change_requested,
        "order.paid": handlers.order_paid,
        "shipment.scanned": handlers.shipment_scanned,
        "customer.updated": handlers.customer_updated,
    },
    on_handoff_resolved=handlers.handoff_resolved,
    on_timer=handlers.tracking_check,
    lock_keys=handlers.lock_keys,
    reasons=OrderReason,
    policy=OrdersPolicy,
    default_role="ops",
    objects=list_orders,
    manual_minutes={"order.fulfil": 6.0, "order.track": 0.5, "order.cancel": 3.0},
    load_models=load_models,
    figures=figures,
    check_resolution=check_resolution,
)
