"""The simulated store: catalogue, customers, warehouses, channels and suppliers."""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from storeops.engine.events import NewEvent


class Behaviour(enum.StrEnum):
    """How a simulated customer behaves."""

    LOYAL = "loyal"
    """Orders regularly, rarely complains."""
    ONE_OFF = "one_off"
    """Orders once or twice."""
    VIP = "vip"
    """Tagged VIP; large baskets."""
    FRAUDSTER = "fraudster"
    """New account, high-value goods, billing and shipping countries differ."""
    SERIAL_RETURNER = "serial_returner"
    """Orders often and sends much back."""
    ANGRY = "angry"
    """Writes to support in anger."""


BEHAVIOUR_MIX = [
    (Behaviour.LOYAL, 0.35),
    (Behaviour.ONE_OFF, 0.42),
    (Behaviour.VIP, 0.05),
    (Behaviour.FRAUDSTER, 0.04),
    (Behaviour.SERIAL_RETURNER, 0.06),
    (Behaviour.ANGRY, 0.08),
]

COUNTRIES = ["FR", "DE", "NL", "BE", "ES", "IT", "AT"]
CITIES = {"FR": "Lyon", "DE": "Köln", "NL": "Utrecht", "BE": "Gent", "ES": "Valencia", "IT": "Torino", "AT": "Graz"}
POSTAL = {"FR": "69001", "DE": "50667", "NL": "3511 AB", "BE": "9000", "ES": "46001", "IT": "10121", "AT": "8010"}
PRODUCTS = [
    "Linen Shirt",
    "Wool Scarf",
    "Canvas Tote",
    "Leather Belt",
    "Rain Jacket",
    "Trail Shoes",
    "Cotton Tee",
    "Denim Jeans",
    "Knit Beanie",
    "Silk Tie",
    "Travel Mug",
    "Desk Lamp",
    "Yoga Mat",
    "Water Bottle",
    "Sun Hat",
    "Hiking Socks",
    "Down Vest",
    "Card Wallet",
    "Espresso Cups",
    "Chef Knife",
]
VARIANTS = ["S", "M", "L"]


@dataclass
class Customer:
    id: str
    email: str
    behaviour: Behaviour
    country: str
    created_at: datetime
    tags: list[str]
    order_count: int = 0


@dataclass
class Product:
    sku: str
    title: str
    price_minor: int
    popularity: float
    """Relative chance a basket line is this SKU; small for intermittent sellers."""
    supplier: str
    lead_time_days: int
    cost_minor: int


@dataclass
class World:
    """Everything the per-desk modules share while a simulation runs."""

    seed: int
    start: datetime
    rng: random.Random
    customers: list[Customer]
    products: list[Product]
    warehouses: list[str]
    channels: list[str]
    suppliers: list[str]
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    """Units per (sku, warehouse) once everything generated so far has happened, including
    shrinkage nobody recorded."""
    promised: dict[tuple[str, str], int] = field(default_factory=dict)
    """Units per (sku, warehouse) the storefront has sold that the warehouse has not picked yet:
    still on the shelf, no longer for sale."""
    promises: dict[str, list[tuple[tuple[str, str], int]]] = field(default_factory=dict)
    """What each order not yet picked (nor cancelled) holds of ``promised``, by order number."""
    later: dict[tuple[str, str], list[tuple[datetime, int]]] = field(default_factory=dict)
    """Changes already counted in ``stock`` that physically happen at a later moment (an order's
    units leave the shelf when it ships, a delivery lands when it arrives)."""
    warehouse_country: dict[str, str] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Orders placed so far by number: customer, total, time (for support); lines, where they were
    shipped to and whether the customer cancelled them (for returns)."""
    parcels: dict[str, list[tuple[dict[str, int], datetime | None]]] = field(default_factory=dict)
    """What the warehouse picked for each order, parcel by parcel: units by SKU and when the
    carrier delivered the parcel (None: it never arrived)."""
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Returns by RMA (``simulate.returns``): each one's story, from the customer's plan to what the
    warehouse found in the parcel."""
    return_plans: dict[str, str | None] = field(default_factory=dict)
    """Delivered orders whose customer has made up their mind, by number: the RMA of the return
    they will ask for, or None."""
    next_order: int = 1000
    next_event: int = 0
    sent: list[Any] = field(default_factory=list)
    """What storeops sent the warehouse and the storefront that has not been acted on yet
    (``simulate.warehouse.Sent``), oldest first."""
    received: set[str] = field(default_factory=set)
    """Idempotency keys of the messages already taken in (the outbox delivers at least once)."""
    stopped: set[str] = field(default_factory=set)
    """Orders whose warehouse request storeops cancelled before they were picked."""

    def external_id(self) -> str:
        """A stable dedupe key: the same seed gives the same keys, so a re-run stores nothing twice."""
        self.next_event += 1
        return f"sim-{self.seed}-{self.next_event}"

    def event(
        self, kind: str, subject: str, at: datetime, payload: dict[str, Any], *, external_id: str | None = None
    ) -> NewEvent:
        """A simulated event of ``kind`` (``external_id``: a key of its own instead of the next number)."""
        return NewEvent(
            source="sim",
            external_id=external_id or self.external_id(),
            kind=kind,
            subject=subject,
            occurred_at=at,
            payload=payload,
        )

    def order_number(self) -> str:
        """The next customer-facing order number, e.g. ``7-1042``: the seed first, so two seeds
        simulated into one store never share an order."""
        number = f"{self.seed}-{self.next_order}"
        self.next_order += 1
        return number

    def for_sale(self, key: tuple[str, str]) -> int:
        """Units of (sku, warehouse) the storefront may still sell: stock not promised to an order."""
        return self.stock.get(key, 0) - self.promised.get(key, 0)

    def promise(self, number: str, taken: list[tuple[tuple[str, str], int]]) -> None:
        """Set ``taken`` aside for order ``number`` until it is picked or cancelled."""
        for key, quantity in taken:
            self.promised[key] = self.promised.get(key, 0) + quantity
        self.promises[number] = taken

    def release(self, number: str) -> None:
        """Order ``number`` no longer holds its units for sale (picked or cancelled); once only."""
        for key, quantity in self.promises.pop(number, []):
            self.promised[key] -= quantity

    def happens(self, key: tuple[str, str], at: datetime, delta: int) -> None:
        """Apply ``delta`` to ``stock`` now, remembering that it physically happens at ``at``."""
        self.stock[key] = self.stock.get(key, 0) + delta
        pending = [(when, change) for when, change in self.later.get(key, []) if when > at - timedelta(days=7)]
        pending.append((at, delta))
        self.later[key] = pending

    def on_shelf(self, key: tuple[str, str], at: datetime) -> int:
        """What a person counting at ``at`` finds: ``stock`` minus the changes still to happen."""
        return self.stock.get(key, 0) - sum(change for when, change in self.later.get(key, []) if when > at)

    def delivered(self, number: str) -> datetime | None:
        """When order ``number`` was in the customer's hands: all its units picked and every parcel
        delivered (the last one's delivery), else None."""
        order, parcels = self.orders.get(number), self.parcels.get(number)
        if order is None or not parcels or any(at is None for _, at in parcels):
            return None
        picked: dict[str, int] = {}
        for units, _ in parcels:
            for sku, quantity in units.items():
                picked[sku] = picked.get(sku, 0) + quantity
        if picked != bought(order["lines"]):
            return None
        return max(at for _, at in parcels if at is not None)

    def moment(self, day: datetime) -> datetime:
        """A random time during ``day`` (business hours weighted)."""
        return day + timedelta(seconds=self.rng.randint(7 * 3600, 22 * 3600))


def bought(lines: list[dict[str, Any]]) -> dict[str, int]:
    """Units of each SKU of an order's lines (a SKU on two lines counts once)."""
    units: dict[str, int] = {}
    for line in lines:
        units[str(line["sku"])] = units.get(str(line["sku"]), 0) + int(line["quantity"])
    return units


def build_world(seed: int, start: datetime, *, customers: int = 400) -> World:
    """A store with a catalogue of 60 SKUs, ``customers`` customers, 2 warehouses and 3 suppliers."""
    rng = random.Random(seed)
    suppliers = ["SUP-NORD", "SUP-SUD", "SUP-EST"]
    products = []
    for index, (title, size) in enumerate((t, s) for t in PRODUCTS for s in VARIANTS):
        price = rng.choice([1490, 1990, 2490, 3990, 5990, 7990, 12900, 18900, 24900])
        intermittent = rng.random() < 0.25
        products.append(
            Product(
                sku=f"{title.upper().replace(' ', '-')}-{size}",
                title=f"{title} ({size})",
                price_minor=price,
                popularity=rng.uniform(0.05, 0.2) if intermittent else rng.uniform(0.6, 3.0),
                supplier=suppliers[index % len(suppliers)],
                lead_time_days=rng.choice([5, 7, 10, 14]),
                cost_minor=price * 45 // 100,
            )
        )
    population = []
    weights = [w for _, w in BEHAVIOUR_MIX]
    kinds = [b for b, _ in BEHAVIOUR_MIX]
    for number in range(1, customers + 1):
        behaviour = rng.choices(kinds, weights)[0]
        age_days = 0 if behaviour is Behaviour.FRAUDSTER else rng.randint(30, 900)
        population.append(
            Customer(
                # the seed in the id and the address: another seed's store has other customers
                id=f"{seed}-{number}",
                email=f"customer{number}.s{seed}@example.test",
                behaviour=behaviour,
                country=rng.choice(COUNTRIES),
                created_at=start - timedelta(days=age_days),
                tags=["VIP"] if behaviour is Behaviour.VIP else [],
            )
        )
    world = World(
        seed=seed,
        start=start,
        rng=rng,
        customers=population,
        products=products,
        warehouses=["WH-PARIS", "WH-BERLIN"],
        warehouse_country={"WH-PARIS": "FR", "WH-BERLIN": "DE"},
        channels=["web", "marketplace"],
        suppliers=suppliers,
    )
    for product in products:
        for warehouse in world.warehouses:
            world.stock[(product.sku, warehouse)] = rng.randint(20, 80)
    return world


def season(day_index: int) -> float:
    """Demand multiplier: a weekly rhythm (weekends busier) on a slow yearly wave."""
    weekly = 1.25 if day_index % 7 in (5, 6) else 0.92
    yearly = 1 + 0.25 * math.sin(2 * math.pi * day_index / 365)
    return weekly * yearly
