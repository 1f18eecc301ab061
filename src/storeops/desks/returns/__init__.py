"""Returns & refunds desk: routine refunds automatically, why returns happen, people for edge cases,
suspected fraud and goodwill (docs/returns.md)."""

from __future__ import annotations

from storeops.desks.returns import handlers
from storeops.desks.returns.events import KINDS
from storeops.desks.returns.insights import figures
from storeops.desks.returns.models import load_models
from storeops.desks.returns.policy import ReturnsPolicy
from storeops.desks.returns.reasons import ReturnReason
from storeops.desks.returns.resolutions import check_resolution, handoff_resolved
from storeops.desks.returns.tables import list_returns
from storeops.engine.desk import Desk

DESK = Desk(
    name="returns",
    kinds=KINDS,
    handlers={
        "return.requested": handlers.return_requested,
        "return.received": handlers.return_received,
        "refund.created": handlers.refund_created,
    },
    on_handoff_resolved=handoff_resolved,
    check_resolution=check_resolution,
    lock_keys=handlers.lock_keys,
    reasons=ReturnReason,
    policy=ReturnsPolicy,
    default_role="finance",
    objects=list_returns,
    manual_minutes={"returns.authorize": 5.0, "returns.refund": 4.0},
    load_models=load_models,
    figures=figures,
)
