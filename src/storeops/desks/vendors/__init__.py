"""Vendors desk: supplier scorecards, SLA alerts and reports run themselves; performance drops and
contract renewals go to a person (docs/vendors.md)."""

from __future__ import annotations

from storeops.desks.vendors import handlers
from storeops.desks.vendors.events import KINDS
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.reasons import VendorReason
from storeops.desks.vendors.resolutions import check_resolution, handoff_resolved
from storeops.desks.vendors.tables import list_suppliers
from storeops.engine.desk import Desk

DESK = Desk(
    name="vendors",
    kinds=KINDS,
    handlers={
        "delivery.received": handlers.delivery_received,
        "purchase_order.drafted": handlers.purchase_order_drafted,
        "supplier.price_changed": handlers.price_changed,
        "shipment.notified": handlers.shipment_notified,
    },
    on_handoff_resolved=handoff_resolved,
    on_timer=handlers.on_timer,
    check_resolution=check_resolution,
    lock_keys=handlers.lock_keys,
    reasons=VendorReason,
    policy=VendorsPolicy,
    default_role="procurement",
    objects=list_suppliers,
    manual_minutes={"vendors.sla_check": 3.0, "vendors.report": 30.0},
)
