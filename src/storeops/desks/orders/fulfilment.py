"""Where an order ships from and how: warehouse choice, reservation, carrier and service."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from storeops.desks.inventory.api import catalogue_skus, levels, reserve_all, reserve_committed
from storeops.desks.orders.policy import OrdersPolicy, Rate, Zone
from storeops.money import Money

EU = frozenset("""AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK""".split())


def zone(origin: str | None, destination: str | None) -> Zone:
    """domestic, eu (both in the EU) or world."""
    if origin and destination and origin == destination:
        return "domestic"
    if origin in EU and destination in EU:
        return "eu"
    return "world"


def choose_rate(rates: Sequence[Rate], shipping_zone: Zone, grams: int, promised_days: int) -> Rate | None:
    """The cheapest service for the zone and weight that keeps the promise, else the fastest."""
    fitting = [r for r in rates if r.zone == shipping_zone and r.max_grams >= grams]
    if not fitting:
        return None
    keeping = [r for r in fitting if r.days <= promised_days]
    if keeping:
        return min(keeping, key=lambda r: (Money.parse(r.price, "XXX").minor, r.days, r.carrier))
    return min(fitting, key=lambda r: (r.days, Money.parse(r.price, "XXX").minor))


@dataclass(frozen=True)
class Shipment:
    """One parcel: from which warehouse, with what, by which carrier."""

    warehouse: str
    lines: list[dict[str, Any]]
    carrier: str
    service: str
    price: str
    days: int
    grams: int


@dataclass(frozen=True)
class Plan:
    """The shipments of an order (one unless no warehouse can ship it whole)."""

    shipments: list[Shipment]

    def as_json(self) -> list[dict[str, Any]]:
        return [s.__dict__ for s in self.shipments]


def _grams(lines: Sequence[Mapping[str, Any]], default: int) -> int:
    return sum(int(line["quantity"]) * int(line.get("grams") or default) for line in lines)


def plan(
    conn: Connection,
    lines: Sequence[Mapping[str, Any]],
    destination: str | None,
    policy: OrdersPolicy,
    *,
    committed: bool = False,
) -> Plan | list[str]:
    """A shipping plan for ``lines`` to ``destination``, or the problems that prevent one:
    ``unknown_sku:<sku>`` (the catalogue has no such SKU), ``stock_not_counted:<sku>`` (the
    storefront sells it, but no level has reached the ledger), ``out_of_stock:<sku>``, ``no_rate``.

    ``committed``: the lines' units are already left out of the ledger's available figures (an
    imported open order, whose units the storefront counted as committed), so they are added back."""
    stock = levels(conn, [str(line["sku"]) for line in lines])
    missing = sorted({str(line["sku"]) for line in lines if str(line["sku"]) not in stock})
    if missing:
        known = catalogue_skus(conn, missing)
        return [f"stock_not_counted:{sku}" if sku in known else f"unknown_sku:{sku}" for sku in missing]
    locations = sorted({level.location for by_sku in stock.values() for level in by_sku})
    available = {(lv.sku, lv.location): lv.available for by_sku in stock.values() for lv in by_sku}
    if committed:
        wanted: dict[str, int] = {}
        for line in lines:
            wanted[str(line["sku"])] = wanted.get(str(line["sku"]), 0) + int(line["quantity"])
        available = {(sku, location): units + wanted.get(sku, 0) for (sku, location), units in available.items()}

    def shipment(location: str, parcel: list[dict[str, Any]]) -> Shipment | None:
        warehouse = policy.warehouses.get(location)
        grams = _grams(parcel, policy.default_item_grams)
        rate = choose_rate(
            policy.rates, zone(warehouse.country if warehouse else None, destination), grams, policy.promised_days
        )
        if rate is None:
            return None
        return Shipment(location, parcel, rate.carrier, rate.service, rate.price, rate.days, grams)

    whole = []
    for location in locations:
        if all(available.get((str(line["sku"]), location), 0) >= int(line["quantity"]) for line in lines):
            candidate = shipment(location, [dict(line) for line in lines])
            if candidate is not None:
                whole.append(candidate)
    if whole:
        return Plan([min(whole, key=lambda s: (Money.parse(s.price, "XXX").minor, s.days, s.warehouse))])
    parcels: dict[str, list[dict[str, Any]]] = {}
    problems = []
    for line in lines:
        sku, quantity = str(line["sku"]), int(line["quantity"])
        options = [loc for loc in locations if available.get((sku, loc), 0) >= quantity]
        if not options:
            problems.append(f"out_of_stock:{sku}")
            continue
        best = min(options, key=lambda loc: (0 if loc in parcels else 1, loc))
        parcels.setdefault(best, []).append(dict(line))
        available[(sku, best)] -= quantity
    if problems:
        return problems
    shipments = [shipment(location, parcel) for location, parcel in sorted(parcels.items())]
    if any(s is None for s in shipments):
        return ["no_rate"]
    return Plan([s for s in shipments if s is not None])


def reserve_plan(
    conn: Connection, order_plan: Plan, reference: str, at: datetime, *, committed: bool = False
) -> list[str]:
    """Reserve every line of the plan under ``reference``; all or nothing. Returns problems.
    ``committed`` (see ``plan``): the units are on the shelf but left out of the ledger, so they go
    back on hand as they are reserved."""
    items = [
        (str(line["sku"]), shipment.warehouse, int(line["quantity"]))
        for shipment in order_plan.shipments
        for line in shipment.lines
    ]
    if committed:
        reserve_committed(conn, items, reference=reference, at=at)
        return []
    short = reserve_all(conn, items, reference=reference, at=at)
    return [f"out_of_stock:{short}"] if short else []


def tracking_number(subject: str, carrier: str, index: int) -> str:
    """A stable tracking number for the order's index-th parcel (the local carrier's)."""
    digest = int.from_bytes(hashlib.blake2b(f"{subject}#{index}".encode(), digest_size=8).digest(), "big")
    return f"{carrier.upper()[:3]}{digest % 10**12:012d}"


__all__ = ["Plan", "Shipment", "choose_rate", "plan", "reserve_plan", "tracking_number", "zone"]
