"""What other desks may ask of the inventory desk (its tables are its own)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select

from storeops.desks.inventory.tables import products

_IN_CATALOGUE = select(products.c.sku).where(products.c.sku.in_(bindparam("skus", expanding=True)))


def catalogue_skus(conn: Connection, skus: Sequence[str]) -> set[str]:
    """Which of ``skus`` the store's catalogue has (a storefront sells them), stocked or not."""
    if not skus:
        return set()
    return {str(sku) for sku in conn.execute(_IN_CATALOGUE, {"skus": sorted(set(skus))}).scalars()}


__all__ = ["catalogue_skus"]
