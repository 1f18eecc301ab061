"""Support desk: answer FAQs, order status and simple returns; hand the rest to a person."""

from __future__ import annotations

from storeops.desks.support import handlers
from storeops.desks.support.events import KINDS
from storeops.desks.support.models import load_models
from storeops.desks.support.policy import SupportPolicy
from storeops.desks.support.reasons import SupportReason
from storeops.desks.support.resolutions import check_resolution, handoff_resolved
from storeops.engine.desk import Desk

DESK = Desk(
    name="support",
    kinds=KINDS,
    handlers={
        "ticket.message_received": handlers.message_received,
        "ticket.draft_ready": handlers.draft_ready,
    },
    on_handoff_resolved=handoff_resolved,
    check_resolution=check_resolution,
    reasons=SupportReason,
    policy=SupportPolicy,
    default_role="support",
    manual_minutes={"support.answer": 6.0, "support.draft": 3.0},
    load_models=load_models,
    lock_keys=handlers.lock_keys,
)
