"""A person's decision on a return, checked before it is queued and carried out after (docs/returns.md).

- **approve**: a return not yet back gets its label (or, with ``returnless``, its refund now); one
  that came back is refunded. Approving an ``outside_policy`` return is the goodwill grant.
- **modify**: approve with changes: ``refund_minor`` (never more than the lines and shipping cost,
  nor than is left to refund on the order), ``settlement`` (``refund`` or ``store_credit``),
  ``returnless``, and ``reason_category`` (a correction the reason classifier learns from).
- **reject**: the customer is told why (``note``, or the reasons in plain words).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select, update

from storeops.desks.orders import api as orders_api
from storeops.desks.returns import handlers
from storeops.desks.returns.classify import CATEGORIES
from storeops.desks.returns.policy import ReturnsPolicy
from storeops.desks.returns.tables import ReturnState, returns
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision
from storeops.engine.events import Event, describe_validation_error
from storeops.errors import Conflict, InvalidInput
from storeops.money import Money


class ReturnChanges(BaseModel):
    """What a person may change when approving a return (``modify``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    refund_minor: int | None = Field(None, ge=0, le=10**15)
    settlement: Literal["refund", "store_credit"] | None = None
    returnless: bool | None = None
    reason_category: str | None = None
    note: str | None = Field(None, max_length=2000)


class RejectChanges(BaseModel):
    """What a rejection may carry: the words the customer is told."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str | None = Field(None, min_length=1, max_length=2000)


def _parse(model: type[BaseModel], changes: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(dict(changes)).model_dump(exclude_none=True)
    except ValidationError as exc:
        message, field = describe_validation_error(exc, prefix="changes")
        raise InvalidInput(message, field=field) from None


def _row(conn: Connection, subject: str) -> Any:
    row = conn.execute(select(returns).where(returns.c.rma == subject.removeprefix("return:"))).first()
    return row._mapping if row is not None else None


def refund_cap(conn: Connection, row: Mapping[str, Any]) -> int:
    """The most this return may refund: what its lines and shipping cost, and no more than is left
    to refund on the order (other returns and the storefront's own refunds counted)."""
    order = orders_api.purchase(conn, subject=row["order_subject"])
    if order is None:
        return 0
    lines_cap = sum(int(line.get("paid_minor", 0)) for line in row["lines"])
    others = handlers.refunded_so_far(conn, order.subject)
    return max(0, min(lines_cap + (order.shipping_paid_minor or 0), order.total_minor - others))


def check_resolution(
    conn: Connection, handoff: Mapping[str, Any], resolution: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The returns desk's gate (``Desk.check_resolution``)."""
    row = _row(conn, str(handoff["subject"]))
    if resolution == "reject":
        return _parse(RejectChanges, changes)
    if resolution == "approve" and changes:
        raise InvalidInput("approve takes no changes; modify does", field="changes")
    parsed = _parse(ReturnChanges, changes)
    if resolution == "modify" and not parsed:
        raise InvalidInput(
            "say what to change: refund_minor, settlement, returnless or reason_category", field="changes"
        )
    if "reason_category" in parsed and parsed["reason_category"] not in CATEGORIES:
        raise InvalidInput(f"reason_category must be one of {', '.join(CATEGORIES)}", field="changes.reason_category")
    if row is None:
        if parsed.keys() - {"note"}:
            raise InvalidInput("this parcel has no return to change: approve or reject it", field="changes")
        return parsed
    if row["state"] not in (ReturnState.HELD.value, ReturnState.RECEIVED.value):
        raise Conflict(f"return {row['rma']} is {row['state']}: there is nothing left to decide")
    if "refund_minor" in parsed:
        cap = refund_cap(conn, row)
        if parsed["refund_minor"] > cap:
            raise InvalidInput(
                f"refund_minor {parsed['refund_minor']} is more than was paid for what comes back "
                f"({Money(cap, row['currency']).format()} at most)",
                field="changes.refund_minor",
            )
    if parsed.get("returnless") and row["state"] == ReturnState.RECEIVED.value:
        raise InvalidInput("the parcel is already back: returnless does not apply", field="changes.returnless")
    return parsed


def handoff_resolved(event: Event, ctx: HandlerContext) -> Decision | None:
    """Carry out a person's decision on a return."""
    conn, now = ctx.conn, ctx.now
    resolution = str(event.payload["resolution"])
    changes = dict(event.payload.get("changes") or {})
    row = _row(conn, event.subject)
    if row is None:
        return Decision(
            action="return.parcel_settled",
            evidence={"resolution": resolution, "effects": ["no return to act on; noted"], "refused": None},
        )
    if row["state"] not in (ReturnState.HELD.value, ReturnState.RECEIVED.value):
        return Decision(
            action="return.resolution_refused",
            evidence={"resolution": resolution, "effects": [], "refused": f"the return is {row['state']}"},
        )
    order = orders_api.purchase(conn, subject=row["order_subject"])
    assert order is not None  # a held return names a stored order
    values: dict[str, Any] = {"updated_at": now}
    if "reason_category" in changes and changes["reason_category"] != row["reason_category"]:
        values["reason_corrected"] = changes["reason_category"]
    if resolution == "reject":
        why = str(changes.get("note") or event.payload.get("note") or _plain_reasons(row["hold_reasons"]))
        conn.execute(
            update(returns).where(returns.c.id == row["id"]).values(**values, state=ReturnState.REJECTED.value)
        )
        return Decision(
            action="return.rejected",
            evidence={"resolution": resolution, "effects": ["customer told why"], "why": why, "refused": None},
            actor=str(event.payload.get("actor") or "automation:returns"),
            outbox=handlers.mail(order, "return.rejected", row["rma"], why=why),
        )
    refund = int(changes.get("refund_minor", row["refund_minor"]))
    settlement = str(changes.get("settlement", row["settlement"]))
    values.update(refund_minor=refund, settlement=settlement, approved=True)
    money = Money(refund, row["currency"]).format()
    policy = ctx.settings(ReturnsPolicy)
    actor = str(event.payload.get("actor") or "automation:returns")
    if row["state"] == ReturnState.RECEIVED.value or changes.get("returnless") or row["received_at"] is not None:
        conn.execute(
            update(returns)
            .where(returns.c.id == row["id"])
            .values(
                **values,
                state=ReturnState.REFUNDED.value,
                refunded_at=now,
                returnless=bool(changes.get("returnless")) and row["received_at"] is None,
            )
        )
        kind = "store credit" if settlement == "store_credit" else "refund"
        return Decision(
            action="return.refund",
            evidence={
                "resolution": resolution,
                "effects": [f"{money} {kind} sent", "customer emailed"],
                "refused": None,
            },
            actor=actor,
            outbox=handlers.refund_messages(
                conn,
                order,
                row["rma"],
                refund,
                settlement,
                now,
                lines=row["lines"],
                returnless=bool(changes.get("returnless")),
            ),
            follow_ups=handlers.exchange_order(order, row["rma"], row["lines"], now),
        )
    conn.execute(update(returns).where(returns.c.id == row["id"]).values(**values, state=ReturnState.AUTHORIZED.value))
    return Decision(
        action="return.authorize",
        evidence={
            "resolution": resolution,
            "effects": [f"return label sent; {money} refunded when the parcel is back"],
            "refused": None,
        },
        actor=actor,
        outbox=handlers.authorize_messages(order, row["rma"], row["lines"], refund, policy, row["requested_at"]),
    )


def _plain_reasons(codes: list[str]) -> str:
    words = {
        "outside_policy": "the return is outside our returns policy",
        "suspicious_return_pattern": "we could not accept this return",
        "refund_over_threshold": "we could not approve this refund",
        "goodwill_request": "we could not make an exception this time",
    }
    return "; ".join(words.get(code, code) for code in codes) or "we could not accept this return"
