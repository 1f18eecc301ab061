"""The returns desk's own state: returns (one row per RMA) and every refund an order has had."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Float, Index, String, Table, Text, select

from storeops.storage.schema import metadata
from storeops.storage.types import Id, Json, UTCDateTime, row_json


class ReturnState(enum.StrEnum):
    """Where a return is."""

    HELD = "held"
    """Waiting for a person (see its open handoff)."""
    AUTHORIZED = "authorized"
    """Accepted: the customer has a label and the parcel is on its way back."""
    RECEIVED = "received"
    """The parcel arrived; a person decides what to do with it (see its open handoff)."""
    REFUNDED = "refunded"
    """Refunded (or store credit issued): done."""
    REJECTED = "rejected"
    """A person said no; the customer was told why."""
    REFUSED = "refused"
    """Automation could not open it: the order is not the customer's, or has not shipped."""


OPEN_STATES = (ReturnState.HELD.value, ReturnState.AUTHORIZED.value, ReturnState.RECEIVED.value)
COUNTED_STATES = (*OPEN_STATES, ReturnState.REFUNDED.value)
"""States whose units count as returned (a refused or rejected return gives nothing back)."""

returns = Table(
    "returns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("rma", String(64), nullable=False, unique=True),
    Column("order_subject", String(255)),
    Column("order_number", String(128), nullable=False),
    Column("customer", String(255)),
    Column("email", String(255)),
    Column("address_key", String(64)),
    Column("channel", String(16), nullable=False),
    # see ReturnState
    Column("state", String(16), nullable=False),
    Column("reason_text", Text, nullable=False),
    Column("reason_category", String(32)),
    Column("reason_confidence", Float),
    # the category a person set, when they corrected the desk's reading (a training label)
    Column("reason_corrected", String(32)),
    # [{sku, quantity, refund_minor}]: what comes back and what each line refunds
    Column("lines", Json, nullable=False),
    Column("refund_minor", Id, nullable=False),
    Column("shipping_refund_minor", Id, nullable=False),
    Column("currency", String(3), nullable=False),
    # refund | store_credit
    Column("settlement", String(16), nullable=False),
    Column("returnless", Boolean, nullable=False),
    # a person approved it: receipt refunds without asking again
    Column("approved", Boolean, nullable=False),
    Column("condition", String(16)),
    Column("note", Text),
    Column("hold_reasons", Json, nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime),
    Column("refunded_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "order_subject"),
    Index(None, "customer"),
    Index(None, "address_key", "requested_at"),
    Index(None, "requested_at"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_subject", String(255), nullable=False),
    Column("amount_minor", Id, nullable=False),
    Column("currency", String(3), nullable=False),
    # storeops (a return it refunded) | storefront (a refund made there)
    Column("origin", String(16), nullable=False),
    Column("reference", String(255), nullable=False, unique=True),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "order_subject"),
)
"""Every refund an order has had, whoever made it: a return never refunds more than is left."""


RETURN_JSON_COLUMNS = (
    "rma",
    "order_number",
    "state",
    "channel",
    "reason_category",
    "reason_confidence",
    "reason_corrected",
    "lines",
    "refund_minor",
    "currency",
    "settlement",
    "returnless",
    "condition",
    "hold_reasons",
    "requested_at",
    "received_at",
    "refunded_at",
)


def list_returns(conn: Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    """Returns newest first, in the API's JSON shape."""
    rows = conn.execute(select(returns).order_by(returns.c.id.desc()).limit(limit).offset(offset))
    return [row_json(dict(row._mapping), RETURN_JSON_COLUMNS) for row in rows]


def returned_units(conn: Connection, order_subject: str) -> dict[str, int]:
    """Units of each SKU of the order already on their way back or refunded (a return's accepted
    units; a refused or rejected return gives nothing back): what a new return may no longer ask for."""
    units: dict[str, int] = {}
    rows = conn.execute(
        select(returns.c.lines).where(returns.c.order_subject == order_subject, returns.c.state.in_(COUNTED_STATES))
    )
    for (lines,) in rows:
        for line in lines or []:
            units[line["sku"]] = units.get(line["sku"], 0) + int(line.get("accepted", line["quantity"]))
    return units
