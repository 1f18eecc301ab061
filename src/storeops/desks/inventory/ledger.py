"""The stock ledger: every movement with its cause; levels derived from it, never edited in place.

``stock_levels`` is a running sum of ``stock_movements`` kept in the same transaction by the
one writer here (``move``), so on-hand and reserved are always the sum of their movements once
the transaction commits. Inside a worker's batch the movement rows are written at the end of
the batch (``engine.writebehind``): any statement that touches them writes them first.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Index, Integer, String, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.engine.writebehind import flush, write_later
from storeops.storage.schema import metadata
from storeops.storage.types import Id, UTCDateTime

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("sku", String(128), primary_key=True),
    Column("location", String(64), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(128), nullable=False),
    Column("location", String(64), nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    # see Cause
    Column("cause", String(16), nullable=False),
    Column("reference", String(255), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "sku", "location", "id"),
    Index(None, "reference"),
)


class Cause(enum.StrEnum):
    """Why stock moved."""

    SALE = "sale"
    """Shipped to a customer (on hand and reservation both go down)."""
    RESERVATION = "reservation"
    """Promised to an order that has not shipped."""
    RELEASE = "release"
    """A reservation given back (order cancelled or rejected)."""
    RETURN = "return"
    """Came back from a customer."""
    RECEIPT = "receipt"
    """Arrived from a supplier."""
    TRANSFER = "transfer"
    """Moved between locations."""
    COUNT = "count"
    """Set by a physical count (the difference is the movement)."""
    ADJUSTMENT = "adjustment"
    """Corrected by a person or a channel."""
    DAMAGE = "damage"
    """Written off."""


@dataclass(frozen=True)
class Level:
    """Stock of one SKU at one location."""

    sku: str
    location: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        """On hand and not promised to an order."""
        return self.on_hand - self.reserved


INSERT_MOVEMENT = stock_movements.insert()
LEVELS = (
    select(stock_levels.c.sku, stock_levels.c.location, stock_levels.c.on_hand, stock_levels.c.reserved)
    .where(stock_levels.c.sku.in_(bindparam("skus", expanding=True)))
    .order_by(stock_levels.c.sku, stock_levels.c.location)
)
_FEW = 8
_LEVELS_OF_FEW: dict[int, Any] = {}


def _levels_of_few(count: int) -> Any:
    """``LEVELS`` for an order's handful of SKUs with one parameter each, built once per count:
    an expanding IN is re-rendered on every execution, which doubles the cost of this query."""
    if count not in _LEVELS_OF_FEW:
        _LEVELS_OF_FEW[count] = (
            select(stock_levels.c.sku, stock_levels.c.location, stock_levels.c.on_hand, stock_levels.c.reserved)
            .where(stock_levels.c.sku.in_([bindparam(f"s{n}") for n in range(count)]))
            .order_by(stock_levels.c.sku, stock_levels.c.location)
        )
    return _LEVELS_OF_FEW[count]


RESERVE = (
    update(stock_levels)
    .where(
        stock_levels.c.sku == bindparam("b_sku"),
        stock_levels.c.location == bindparam("b_location"),
        stock_levels.c.on_hand - stock_levels.c.reserved >= bindparam("b_quantity"),
    )
    .values(reserved=stock_levels.c.reserved + bindparam("b_quantity"), updated_at=bindparam("b_at"))
)
HELD_BY_REFERENCE = (
    select(stock_movements.c.sku, stock_movements.c.location, func.sum(stock_movements.c.reserved_delta))
    .where(stock_movements.c.reference == bindparam("reference"))
    .group_by(stock_movements.c.sku, stock_movements.c.location)
    .order_by(stock_movements.c.sku, stock_movements.c.location)
)
# Statements are built once: building them per call costs more than running them.
_APPLY: dict[str, Any] = {}


def _apply_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE adding the deltas to the level, built once per dialect."""
    if dialect not in _APPLY:
        factory = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = factory(stock_levels)
        _APPLY[dialect] = statement.on_conflict_do_update(
            index_elements=["sku", "location"],
            set_={
                "on_hand": stock_levels.c.on_hand + statement.excluded.on_hand,
                "reserved": stock_levels.c.reserved + statement.excluded.reserved,
                "updated_at": statement.excluded.updated_at,
            },
        )
    return _APPLY[dialect]


def _movement(
    sku: str, location: str, on_hand: int, reserved: int, cause: Cause, reference: str, at: datetime
) -> dict[str, Any]:
    return {
        "sku": sku,
        "location": location,
        "on_hand_delta": on_hand,
        "reserved_delta": reserved,
        "cause": cause.value,
        "reference": reference,
        "at": at,
    }


CHANGED = "storeops.stock_changed"
"""Key in ``Connection.info`` of the (sku, location) pairs whose level changed in this transaction,
read and cleared at the end of the batch to push channels once per pair (see inventory.channels)."""


def mark_changed(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Remember that these levels changed (for the end-of-batch channel push)."""
    conn.info.setdefault(CHANGED, set()).update(pairs)


def take_changed(conn: Connection) -> set[tuple[str, str]]:
    """The levels changed since the last call, forgetting them."""
    changed: set[tuple[str, str]] = conn.info.pop(CHANGED, set())
    return changed


def move(
    conn: Connection,
    *,
    sku: str,
    location: str,
    cause: Cause,
    reference: str,
    at: datetime,
    on_hand: int = 0,
    reserved: int = 0,
) -> None:
    """Record one movement and apply it to the level, atomically (no read-modify-write)."""
    write_later(conn, INSERT_MOVEMENT, _movement(sku, location, on_hand, reserved, cause, reference, at))
    conn.execute(
        _apply_statement(conn.dialect.name),
        {"sku": sku, "location": location, "on_hand": on_hand, "reserved": reserved, "updated_at": at},
    )
    mark_changed(conn, [(sku, location)])


def levels(conn: Connection, skus: Sequence[str]) -> dict[str, list[Level]]:
    """Levels of ``skus`` by SKU, locations in a fixed order."""
    if not skus:
        return {}
    out: dict[str, list[Level]] = {}
    wanted = sorted(set(skus))
    if len(wanted) <= _FEW:
        rows = conn.execute(_levels_of_few(len(wanted)), {f"s{n}": sku for n, sku in enumerate(wanted)})
    else:
        rows = conn.execute(LEVELS, {"skus": wanted})
    for row in rows:
        out.setdefault(row.sku, []).append(Level(row.sku, row.location, row.on_hand, row.reserved))
    return out


UNRESERVE = (
    update(stock_levels)
    .where(stock_levels.c.sku == bindparam("b_sku"), stock_levels.c.location == bindparam("b_location"))
    .values(reserved=stock_levels.c.reserved - bindparam("b_quantity"))
)


def reserve_all(conn: Connection, items: Sequence[tuple[str, str, int]], *, reference: str, at: datetime) -> str | None:
    """Reserve every (sku, location, quantity) or none, each by an atomic conditional update so two
    orders can never both take the last unit. Returns the first SKU that was short
    (after giving back what it had taken), or None with all reserved and their movements written
    (at the end of the worker's batch, see ``engine.writebehind``)."""
    taken: list[tuple[str, str, int]] = []
    for sku, location, quantity in items:
        result = conn.execute(RESERVE, {"b_sku": sku, "b_location": location, "b_quantity": quantity, "b_at": at})
        if result.rowcount != 1:
            for back_sku, back_location, back_quantity in taken:
                conn.execute(UNRESERVE, {"b_sku": back_sku, "b_location": back_location, "b_quantity": back_quantity})
            return sku
        taken.append((sku, location, quantity))
    if taken:
        mark_changed(conn, [(sku, location) for sku, location, _ in taken])
        for sku, location, quantity in taken:
            write_later(conn, INSERT_MOVEMENT, _movement(sku, location, 0, quantity, Cause.RESERVATION, reference, at))
    return None


def reserve_committed(conn: Connection, items: Sequence[tuple[str, str, int]], *, reference: str, at: datetime) -> None:
    """Reserve units a storefront already counted as committed to an open order when the store was
    imported: its stock figures left them out, so they go back on hand as they are reserved
    (available stays as the storefront reported it)."""
    for sku, location, quantity in items:
        move(
            conn,
            sku=sku,
            location=location,
            cause=Cause.RESERVATION,
            reference=reference,
            at=at,
            on_hand=quantity,
            reserved=quantity,
        )


def release_reference(conn: Connection, reference: str, *, at: datetime, cause: Cause = Cause.RELEASE) -> int:
    """Give back everything still reserved under ``reference``; ``cause=SALE`` ships it instead
    (reserved and on hand both go down). Returns units moved."""
    rows = conn.execute(HELD_BY_REFERENCE, {"reference": reference}).all()
    moved = 0
    for sku, location, held in rows:
        if held and held > 0:
            move(
                conn,
                sku=sku,
                location=location,
                cause=cause,
                reference=reference,
                at=at,
                reserved=-int(held),
                on_hand=-int(held) if cause is Cause.SALE else 0,
            )
            moved += int(held)
    return moved


def level(conn: Connection, sku: str, location: str) -> Level | None:
    """One level, or None when the SKU was never stocked there."""
    row = conn.execute(
        select(stock_levels).where(stock_levels.c.sku == sku, stock_levels.c.location == location)
    ).first()
    return None if row is None else Level(row.sku, row.location, row.on_hand, row.reserved)


LATER_ON_HAND = select(func.coalesce(func.sum(stock_movements.c.on_hand_delta), 0)).where(
    stock_movements.c.sku == bindparam("sku"),
    stock_movements.c.location == bindparam("location"),
    stock_movements.c.at > bindparam("at", type_=stock_movements.c.at.type),
)


def on_hand_as_of(conn: Connection, sku: str, location: str, at: datetime) -> int | None:
    """On hand as the ledger stood at ``at``: the level less the movements dated after it (events
    decided before an earlier one — several workers, a late webhook — moved stock later in the
    store's time). None when the SKU was never stocked there."""
    current = level(conn, sku, location)
    if current is None:
        return None
    flush(conn)  # the batch's movements waiting to be written count too
    later = conn.execute(LATER_ON_HAND, {"sku": sku, "location": location, "at": at}).scalar_one()
    return current.on_hand - int(later)


def list_levels(conn: Connection, limit: int, offset: int) -> list[dict[str, Any]]:
    """Stock per SKU and location (on hand, reserved, available), by SKU, for the API."""
    rows = conn.execute(
        select(stock_levels).order_by(stock_levels.c.sku, stock_levels.c.location).limit(limit).offset(offset)
    )
    return [
        {
            "subject": f"sku:{row.sku}",
            "sku": row.sku,
            "location": row.location,
            "on_hand": row.on_hand,
            "reserved": row.reserved,
            "available": row.on_hand - row.reserved,
            "updated_at": row.updated_at.isoformat(),
        }
        for row in rows
    ]
