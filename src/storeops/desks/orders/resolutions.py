"""What a person may decide on the orders desk's handoffs, checked before it is queued.

Every resolution does what the table in docs/resolutions.md says; this module is that table's
gate: the changes a "modify" may carry for each reason (a pydantic model per reason — anything
else is refused naming the field), and whether the order is still in a state the resolution can
act on (a held order that the storefront has meanwhile shipped or cancelled cannot be approved or
rejected: Conflict, with the reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection

from storeops.desks.orders.reasons import OrderReason
from storeops.desks.orders.tables import ORDER_BY_SUBJECT, OrderStatus
from storeops.engine.events import describe_validation_error
from storeops.errors import Conflict, InvalidInput

HELD_REASONS = frozenset(
    {
        OrderReason.ORDER_VALUE_OVER_THRESHOLD,
        OrderReason.FRAUD_SIGNAL,
        OrderReason.REPEATED_ADDRESS_MISMATCH,
        OrderReason.DUPLICATE_ORDER,
        OrderReason.ORDER_INVALID,
        OrderReason.STOCK_NOT_COUNTED,
        OrderReason.CHANGE_REQUEST,
    }
)
"""Reasons an order waits for a person before it ships."""


class AddressChange(BaseModel):
    """The fields of a shipping address a person may correct (the others stay)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, min_length=1, max_length=255)
    line1: str | None = Field(None, min_length=1, max_length=255)
    line2: str | None = Field(None, max_length=255)
    city: str | None = Field(None, min_length=1, max_length=128)
    postal_code: str | None = Field(None, min_length=1, max_length=32)
    region: str | None = Field(None, max_length=128)
    country: str | None = Field(None, min_length=2, max_length=64)
    phone: str | None = Field(None, max_length=64)


class OrderChanges(BaseModel):
    """``modify`` on a held order: correct where it goes, how, or which lines ship."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shipping_address: AddressChange | None = None
    service: str | None = Field(None, min_length=1, max_length=32, description="A carrier service of [orders] rates.")
    drop_lines: list[str] | None = Field(None, min_length=1, description="SKUs of lines not to ship.")

    @model_validator(mode="after")
    def _something(self) -> OrderChanges:
        if self.shipping_address is None and self.service is None and self.drop_lines is None:
            raise ValueError("say what to change: shipping_address, service or drop_lines")
        return self


class IrregularityChanges(BaseModel):
    """``modify`` on a shipping irregularity: what to do about the parcel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["reship", "refund", "contact_carrier"]
    follow_up_days: int = Field(3, ge=1, le=30, description="When to look again after contacting the carrier.")


def _parse(model: type[BaseModel], changes: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(dict(changes)).model_dump(exclude_none=True)
    except ValidationError as exc:
        message, field = describe_validation_error(exc, prefix="changes")
        raise InvalidInput(message, field=field) from None


def check_resolution(
    conn: Connection, handoff: Mapping[str, Any], resolution: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The orders desk's gate (``Desk.check_resolution``): the normalised changes, InvalidInput naming
    a field a "modify" may not carry, or Conflict when the order can no longer take the resolution."""
    reasons = {str(reason) for reason in handoff["reasons"]}
    row = conn.execute(ORDER_BY_SUBJECT, {"subject": handoff["subject"]}).first()
    if row is None:
        raise Conflict(f"{handoff['subject']} is not an order storeops knows; nothing to act on")
    order = row._mapping
    number = order["number"]
    if OrderReason.SHIPPING_IRREGULARITY.value in reasons and not reasons & {r.value for r in HELD_REASONS}:
        if resolution == "modify":
            return _parse(IrregularityChanges, changes)
        if changes:
            raise InvalidInput("approve and reject take no changes; modify does", field="changes")
        return {}
    if OrderReason.CHANGE_REQUEST.value in reasons and order["status"] == OrderStatus.FULFILLING.value:
        # The warehouse has it: only the address can still change, sent on to the warehouse.
        if resolution == "modify":
            parsed = _parse(OrderChanges, changes)
            if set(parsed) - {"shipping_address"}:
                raise InvalidInput(
                    "the warehouse already has this order: only its shipping_address can still change",
                    field="changes",
                )
            return parsed
        if changes:
            raise InvalidInput("approve and reject take no changes; modify does", field="changes")
        return {}
    if order["status"] != OrderStatus.HELD.value:
        what = {
            OrderStatus.SHIPPED.value: "has already shipped: it can no longer be cancelled or changed; offer a return",
            OrderStatus.DELIVERED.value: "was delivered: offer a return",
            OrderStatus.CANCELLED.value: "was cancelled",
            OrderStatus.FULFILLING.value: "is already with the warehouse",
        }.get(str(order["status"]), f"is {order['status']}")
        raise Conflict(f"order #{number} {what}")
    if resolution == "modify":
        parsed = _parse(OrderChanges, changes)
        lines = {str(line["sku"]) for line in order["lines"]}
        dropped = set(parsed.get("drop_lines") or [])
        if dropped - lines:
            unknown = ", ".join(sorted(dropped - lines))
            raise InvalidInput(
                f"changes.drop_lines: {unknown} is not a line of order #{number}", field="changes.drop_lines"
            )
        if dropped and dropped >= lines:
            raise InvalidInput(
                "changes.drop_lines: that drops every line; reject the order instead", field="changes.drop_lines"
            )
        return parsed
    if changes:
        raise InvalidInput("approve and reject take no changes; modify does", field="changes")
    return {}
