"""Simulated orders, payments and cancellations (their tracking scans come from
``simulate.warehouse``, once storeops has sent an order to the warehouse)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from storeops.engine.events import NewEvent
from storeops.simulate.truth import Truth
from storeops.simulate.world import CITIES, COUNTRIES, POSTAL, Behaviour, Customer, World, season

HIGH_VALUE_MINOR = 50000
"""The default [orders] high_value_threshold the truth labels are drawn against."""
MISMATCH_REPEAT = 3
MISMATCH_WINDOW = timedelta(days=30)
"""The default [orders] address_mismatch_repeat and address_mismatch_window_days: repeated
means that many orders shipped away from billing within the window."""
ORDERS_PER_DAY = 40


def _address(world: World, customer: Customer, country: str | None = None) -> dict[str, Any]:
    country = country or customer.country
    return {
        "name": f"Customer {customer.id}",
        "line1": f"{world.rng.randint(1, 180)} Rue du Test",
        "city": CITIES[country],
        "postal_code": POSTAL[country],
        "country": country,
    }


def _pick_customer(world: World) -> Customer:
    weights = {
        Behaviour.LOYAL: 3.0,
        Behaviour.ONE_OFF: 0.6,
        Behaviour.VIP: 2.5,
        Behaviour.FRAUDSTER: 0.5,
        Behaviour.SERIAL_RETURNER: 2.5,
        Behaviour.ANGRY: 1.0,
    }
    return world.rng.choices(world.customers, [weights[c.behaviour] for c in world.customers])[0]


def _in_stock(world: World, sku: str, quantity: int) -> bool:
    return any(world.for_sale((sku, warehouse)) >= quantity for warehouse in world.warehouses)


def customer_backfill(world: World) -> list[tuple[NewEvent, list[Truth]]]:
    """Day zero: the storefront's existing customers (tags, sign-up time), as a store connecting
    its shop imports them. Customers who sign up when they first buy are not among them."""
    return [
        (
            world.event(
                "customer.updated",
                f"customer:sim:{customer.id}",
                world.start,
                {
                    "customer": {
                        "id": customer.id,
                        "email": customer.email,
                        "tags": customer.tags,
                        "created_at": customer.created_at.isoformat(),
                    }
                },
            ),
            [],
        )
        for customer in world.customers
        if customer.created_at < world.start
    ]


def day_events(world: World, day: datetime, day_index: int) -> list[tuple[NewEvent, list[Truth]]]:
    """One day's orders with their payments and cancellations. An order's units stay on the
    shelf, promised to it, until the warehouse picks it (``simulate.warehouse``)."""
    rng = world.rng
    out: list[tuple[NewEvent, list[Truth]]] = []
    count = max(1, int(rng.gauss(ORDERS_PER_DAY * season(day_index), 5)))
    spike_sku = world.products[rng.randrange(len(world.products))].sku if rng.random() < 0.05 else None
    spike_truth = (
        [Truth(f"sku:{spike_sku}", "stock_anomaly", {"kind": "sales_spike", "extra_units": count})] if spike_sku else []
    )
    for index in range(count):
        # Each order draws from a stream of its own, so one order the store could not take
        # (sold out) does not change every order after it.
        world.rng = rng = random.Random(f"{world.seed}:order:{day_index}:{index}")
        customer = _pick_customer(world)
        customer.order_count += 1
        at = world.moment(day)
        number = world.order_number()
        subject = f"order:sim:{number}"
        lines: list[dict[str, Any]] = []
        n_lines = rng.choice([1, 1, 1, 2, 2, 3]) + (2 if customer.behaviour is Behaviour.VIP else 0)
        products = world.products
        if customer.behaviour is Behaviour.FRAUDSTER:
            products = sorted(products, key=lambda p: -p.price_minor)[:12]
        for product in rng.choices(products, [p.popularity for p in products], k=n_lines):
            quantity = rng.randint(2, 5) if customer.behaviour is Behaviour.FRAUDSTER else rng.choice([1, 1, 1, 2])
            if _in_stock(world, product.sku, quantity):  # the storefront does not sell what is sold out
                lines.append({"sku": product.sku, "quantity": quantity, "unit_price_minor": product.price_minor})
        if spike_sku and _in_stock(world, spike_sku, 1):
            lines.append({"sku": spike_sku, "quantity": 1, "unit_price_minor": 990})
        if not lines:
            continue
        total = sum(line["quantity"] * line["unit_price_minor"] for line in lines)
        billing = _address(world, customer)
        shipping = dict(billing)
        truths: list[Truth] = []
        mismatch = False
        if customer.behaviour is Behaviour.FRAUDSTER:
            foreign = rng.choice([c for c in COUNTRIES if c != customer.country])
            shipping = _address(world, customer, foreign)
            mismatch = True
            truths.append(Truth(subject, "fraud_signal", {"behaviour": customer.behaviour.value}))
        elif rng.random() < 0.04:
            shipping = _address(world, customer, rng.choice(COUNTRIES))
            shipping["name"] = "A Friend"  # a gift: one mismatch is no reason to stop anyone
            mismatch = True
        if mismatch:
            history = world.orders.setdefault(f"mismatch:{customer.id}", {"count": 0, "at": []})
            history["at"] = [when for when in history["at"] if when >= at - MISMATCH_WINDOW] + [at]
            history["count"] = len(history["at"])
            if history["count"] >= MISMATCH_REPEAT:
                truths.append(Truth(subject, "repeated_address_mismatch", {"mismatches": history["count"]}))
        if total >= HIGH_VALUE_MINOR:
            truths.append(Truth(subject, "order_value_over_threshold", {"total_minor": total}))
        if not truths:
            truths.append(Truth(subject, "routine"))
        truths += spike_truth
        spike_truth = []
        taken = _ship_from(world, lines, shipping.get("country"))
        world.orders[number] = {
            "customer": customer.id,
            "total_minor": total,
            "at": at,
            "lines": lines,
            "ship_to": (shipping["line1"], shipping["postal_code"], shipping["country"]),
        }
        payload = {
            "order_number": number,
            "customer": {
                "id": customer.id,
                "email": customer.email,
                "tags": customer.tags,
                "created_at": (
                    at - timedelta(seconds=rng.randint(5, 240))
                    if customer.behaviour is Behaviour.FRAUDSTER
                    else customer.created_at
                ).isoformat(),
            },
            "currency": "EUR",
            "total_minor": total,
            "lines": lines,
            "shipping_address": shipping,
            "billing_address": billing,
            "channel": rng.choice(world.channels),
            "ip_country": shipping["country"] if customer.behaviour is Behaviour.FRAUDSTER else customer.country,
            "ip": f"10.{rng.randint(0, 3)}.0.1"
            if customer.behaviour is Behaviour.FRAUDSTER
            else f"192.0.{customer.id}",
            "device_id": f"dev-shared-{rng.randint(0, 2)}"
            if customer.behaviour is Behaviour.FRAUDSTER
            else f"dev-{customer.id}",
            "payment_status": "authorized",
        }
        out.append((world.event("order.created", subject, at, payload), truths))
        out.append((world.event("order.paid", subject, at + timedelta(minutes=2), {"order_number": number}), []))
        if rng.random() < 0.02:
            cancel_at = at + timedelta(minutes=rng.randint(5, 120))
            out.append(
                (world.event("order.cancelled", subject, cancel_at, {"order_number": number, "reason": "customer"}), [])
            )
            world.orders[number]["cancelled"] = True
            continue  # the storefront puts its units back on sale at once
        world.promise(number, taken)
    return out


def _ship_from(world: World, lines: list[dict[str, Any]], destination: str | None) -> list[tuple[tuple[str, str], int]]:
    """Where the storefront counts each line's units as sold from: one warehouse for the whole
    order when one can (its own country first, then by name), else line by line. (Where they
    really leave from is the warehouse storeops sends the order to.)"""
    ranked = sorted(world.warehouses, key=lambda wh: (world.warehouse_country.get(wh) != destination, wh))
    whole = next(
        (wh for wh in ranked if all(world.for_sale((line["sku"], wh)) >= line["quantity"] for line in lines)),
        None,
    )
    taken = []
    for line in lines:
        options = [whole] if whole else sorted(world.warehouses)
        for warehouse in options:
            if world.for_sale((line["sku"], warehouse)) >= line["quantity"]:
                taken.append(((line["sku"], warehouse), int(line["quantity"])))
                break
    return taken
