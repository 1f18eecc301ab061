"""A person's decision on a vendors handoff (docs/vendors.md#handoffs). Negotiating and contract
decisions are theirs: storeops records what they decided and carries nothing out on its own.

- ``performance_drop``: approve = talked to the supplier; reject = not a real problem (a note
  says why). Either way the detector's baseline starts again from the drop, so it is not raised twice.
- ``contract_renewal_due``: approve = renew, reject = let it end, modify ``{"ends_on":
  "YYYY-MM-DD"}`` = renewed to a new end date (the next renewal timer is set for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from storeops.desks.vendors.handlers import schedule_renewal
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.reasons import VendorReason
from storeops.desks.vendors.tables import vendor_contracts
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision
from storeops.engine.events import Event
from storeops.engine.inbox import get_handoff
from storeops.errors import InvalidInput


def _new_end(changes: Mapping[str, Any]) -> date | None:
    raw = changes.get("ends_on")
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(
            f"changes.ends_on {str(raw)[:40]!r} is not a date (YYYY-MM-DD)", field="changes.ends_on"
        ) from None


def check_resolution(
    conn: Connection, handoff: Mapping[str, Any], resolution: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """A modify may carry ``ends_on`` (a renewal's new end date, after the current one) and ``note``."""
    unknown = sorted(set(changes) - {"ends_on", "note"})
    if unknown:
        raise InvalidInput(
            f"changes.{unknown[0]}: a vendors handoff takes ends_on and note", field=f"changes.{unknown[0]}"
        )
    out = dict(changes)
    new_end = _new_end(changes)
    if new_end is not None:
        if VendorReason.CONTRACT_RENEWAL_DUE.value not in (handoff.get("reasons") or []):
            raise InvalidInput("changes.ends_on: only a contract renewal has an end date", field="changes.ends_on")
        ends_on = (handoff.get("evidence") or {}).get("ends_on")
        if ends_on and new_end <= date.fromisoformat(ends_on):
            raise InvalidInput(
                f"changes.ends_on {new_end} is not after the contract's end {ends_on}", field="changes.ends_on"
            )
        out["ends_on"] = new_end.isoformat()
    return out


def handoff_resolved(event: Event, ctx: HandlerContext) -> Decision | None:
    """Record a person's decision; a renewal to a new end date moves the contract and its timer."""
    reasons = set(event.payload.get("reasons") or [])
    resolution = str(event.payload.get("resolution"))
    changes: dict[str, Any] = dict(event.payload.get("changes") or {})
    if VendorReason.CONTRACT_RENEWAL_DUE.value in reasons:
        return _renewal(event, ctx, resolution, changes)
    said = "the supplier was talked to" if resolution != "reject" else "judged not a real drop"
    return Decision(
        action=f"vendor.drop_{resolution}",
        evidence={
            "resolution": resolution,
            "note": event.payload.get("note") or changes.get("note"),
            "effects": [said],
            "refused": None,
        },
    )


def _renewal(event: Event, ctx: HandlerContext, resolution: str, changes: dict[str, Any]) -> Decision:
    evidence = get_handoff(ctx.conn, int(event.payload["handoff_id"]))["evidence"] or {}
    number = str(evidence.get("contract") or "")
    row = (
        ctx.conn.execute(select(vendor_contracts).where(vendor_contracts.c.contract == number)).first()
        if number
        else None
    )
    new_end = _new_end(changes)
    effects: list[str]
    if resolution == "reject":
        effects = [f"contract {number} is left to end"]
    elif new_end is not None and row is not None:
        ctx.conn.execute(
            update(vendor_contracts)
            .where(vendor_contracts.c.contract == number)
            .values(ends_on=new_end, renewal_opened_at=None, updated_at=ctx.now)
        )
        at = schedule_renewal(ctx.conn, number, new_end, row.notice_days, ctx.settings(VendorsPolicy))
        effects = [f"contract {number} runs to {new_end}", f"its next renewal comes to a person on {at:%Y-%m-%d}"]
    else:
        effects = [f"contract {number}: renewal decided (update its end date with storeops vendors contracts import)"]
    return Decision(
        action=f"vendor.renewal_{resolution}",
        evidence={"resolution": resolution, "contract": number, "effects": effects, "refused": None},
    )
