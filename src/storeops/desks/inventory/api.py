"""What other desks may ask of the inventory desk (its tables are its own): which SKUs the store
sells, stock levels, and the ledger movements an order causes — reserving, releasing, selling."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from storeops.desks.inventory.ledger import (
    Cause,
    Level,
    levels,
    move,
    release_reference,
    reserve_all,
    reserve_committed,
)
from storeops.desks.inventory.tables import products

__all__ = [
    "Cause",
    "Level",
    "catalogue_skus",
    "levels",
    "record_return",
    "record_sale",
    "release_reference",
    "reserve_all",
    "reserve_committed",
    "suppliers",
    "titles",
]

_IN_CATALOGUE = select(products.c.sku).where(products.c.sku.in_(bindparam("skus", expanding=True)))


def catalogue_skus(conn: Connection, skus: Sequence[str]) -> set[str]:
    """Which of ``skus`` the store's catalogue has (a storefront sells them), stocked or not."""
    if not skus:
        return set()
    return {str(sku) for sku in conn.execute(_IN_CATALOGUE, {"skus": sorted(set(skus))}).scalars()}


_TITLES = select(products.c.sku, products.c.title).where(
    products.c.sku.in_(bindparam("skus", expanding=True)), products.c.title.is_not(None)
)


def titles(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """The catalogue's title of each of ``skus`` that has one."""
    if not skus:
        return {}
    return {str(sku): str(title) for sku, title in conn.execute(_TITLES, {"skus": sorted(set(skus))}) if title}


_SUPPLIERS = select(products.c.sku, products.c.supplier).where(products.c.sku.in_(bindparam("skus", expanding=True)))


def suppliers(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """The supplier of each of ``skus`` the catalogue names one for."""
    if not skus:
        return {}
    return {str(sku): str(name) for sku, name in conn.execute(_SUPPLIERS, {"skus": sorted(set(skus))}) if name}


def record_sale(conn: Connection, *, sku: str, location: str, quantity: int, reference: str, at: datetime) -> None:
    """Units that left the shelf in a sale nobody reserved first (the storefront fulfilled it)."""
    move(conn, sku=sku, location=location, cause=Cause.SALE, reference=reference, at=at, on_hand=-quantity)


def record_return(conn: Connection, *, sku: str, location: str, quantity: int, reference: str, at: datetime) -> None:
    """Units a customer sent back in sellable condition: on the shelf again at ``location``."""
    move(conn, sku=sku, location=location, cause=Cause.RETURN, reference=reference, at=at, on_hand=quantity)
