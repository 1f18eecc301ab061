"""Simulated catalogue facts, supplier deliveries, cycle counts, damage and shrinkage."""

from __future__ import annotations

from datetime import datetime, timedelta

from storeops.engine.events import NewEvent
from storeops.simulate.truth import Truth
from storeops.simulate.world import Product, World

NEW_SKU_DAY = 12
SUPPLIER_CHANGE_DAY = 20


def catalogue_backfill(world: World) -> list[tuple[NewEvent, list[Truth]]]:
    """Day zero: the existing catalogue and opening stock, marked as a backfill (no handoffs)."""
    at = world.start
    out: list[tuple[NewEvent, list[Truth]]] = []
    for product in world.products:
        out.append((_product_event(world, product, at, backfill=True), []))
        for warehouse in world.warehouses:
            payload = {
                "sku": product.sku,
                "location": warehouse,
                "quantity_delta": world.stock[(product.sku, warehouse)],
                "cause": "count",
                "backfill": True,
            }
            out.append((world.event("stock.adjusted", f"sku:{product.sku}", at, payload), []))
    return out


def _product_event(world: World, product: Product, at: datetime, *, backfill: bool = False) -> NewEvent:
    payload = {
        "sku": product.sku,
        "title": product.title,
        "supplier": product.supplier,
        "cost_minor": product.cost_minor,
        "lead_time_days": product.lead_time_days,
        "backfill": backfill,
    }
    return world.event("product.updated", f"sku:{product.sku}", at, payload)


def day_events(world: World, day: datetime, day_index: int) -> list[tuple[NewEvent, list[Truth]]]:
    """One day of stock movements: deliveries, counts (some revealing shrinkage), damage, changes."""
    rng = world.rng
    out: list[tuple[NewEvent, list[Truth]]] = []
    for (sku, warehouse), units in sorted(world.stock.items()):
        product = next(p for p in world.products if p.sku == sku)
        if units - world.promised.get((sku, warehouse), 0) < 12 and rng.random() < 0.5:
            quantity = rng.choice([36, 48, 72])
            arrives = world.moment(day)
            world.happens((sku, warehouse), arrives, quantity)
            payload = {"sku": sku, "location": warehouse, "quantity": quantity, "supplier": product.supplier}
            out.append((world.event("delivery.received", f"sku:{sku}", arrives, payload), []))
    for _ in range(6):
        product = rng.choice(world.products)
        warehouse = rng.choice(world.warehouses)
        key = (product.sku, warehouse)
        truths: list[Truth] = []
        counted_at = world.moment(day)
        if rng.random() < 0.15 and world.on_shelf(key, counted_at) > 10:
            stolen = rng.randint(5, min(15, world.on_shelf(key, counted_at)))
            world.happens(key, counted_at - timedelta(minutes=1), -stolen)
            truths.append(Truth(f"sku:{product.sku}", "stock_anomaly", {"kind": "shrinkage", "units": stolen}))
        payload = {"sku": product.sku, "location": warehouse, "counted": world.on_shelf(key, counted_at)}
        out.append((world.event("stock.counted", f"sku:{product.sku}", counted_at, payload), truths))
    if rng.random() < 0.3:
        product = rng.choice(world.products)
        warehouse = rng.choice(world.warehouses)
        damaged_at = world.moment(day)
        if world.on_shelf((product.sku, warehouse), damaged_at) > 0:
            world.happens((product.sku, warehouse), damaged_at, -1)
            payload = {"sku": product.sku, "location": warehouse, "quantity_delta": -1, "cause": "damage"}
            out.append((world.event("stock.adjusted", f"sku:{product.sku}", damaged_at, payload), []))
    if day_index == NEW_SKU_DAY:
        product = Product(
            sku="GIFT-CARD-BOX",
            title="Gift Card Box",
            price_minor=990,
            popularity=1.0,
            supplier=world.suppliers[0],
            lead_time_days=7,
            cost_minor=300,
        )
        world.products.append(product)
        for warehouse in world.warehouses:
            world.stock[(product.sku, warehouse)] = 0
        out.append((_product_event(world, product, day + timedelta(hours=9)), [Truth("sku:GIFT-CARD-BOX", "new_sku")]))
    if day_index == SUPPLIER_CHANGE_DAY:
        product = world.products[0]
        product.supplier = world.suppliers[-1]
        product.lead_time_days += 7
        truth = Truth(f"sku:{product.sku}", "supplier_change", {"supplier": product.supplier})
        out.append((_product_event(world, product, day + timedelta(hours=10)), [truth]))
    return out
