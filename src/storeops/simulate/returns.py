"""Simulated returns: customers sending back some of what was delivered to them, with ground truth.

An order enters the story once every unit of it is in the customer's hands (the delivery scan of
its last parcel, ``World.delivered``). Its customer then makes up their mind, from the order's own
random stream: most keep everything; some (most orders of a serial returner) ask for a return in
their own words a few days later. Among those, some ask after the return window, some of them
asking for an exception; some name an item they never bought or more units than they got; some
plan to send back an empty box, a worn item or one they damaged themselves. The customer posts
the parcel only once storeops has sent them the prepaid label (``warehouse`` hands each
``label.create`` to :func:`parcel_back`), and the warehouse finds in it what the story says.

The ground truth (subject ``return:<rma>``) is the world's own story, never storeops' records:
the delivery time is the carrier's scan the world made, the refund what the world's prices make
of the units sent back, and a serial returner's or a shared address's history is the customer
orders and return requests the world itself made, judged by the [returns] policy's defaults.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from storeops.engine.events import NewEvent
from storeops.simulate.truth import Truth
from storeops.simulate.world import Behaviour, Customer, World, bought

WINDOW = timedelta(days=30)
"""The default [returns] window_days, counted from the delivery scan."""
AUTO_REFUND_MAX_MINOR = 15000
"""The default [returns] auto_refund_max (150.00 EUR): a bigger refund is for a person."""
SERIAL_RATE = 0.5
SERIAL_MIN_ORDERS = 4
"""The default [returns] serial_returner_rate and serial_returner_min_orders: a customer with at
least that many orders, more than that share of them with a return, is a serial returner."""
SHARED_ACCOUNTS = 3
SHARED_DAYS = timedelta(days=90)
"""The default [returns] shared_address_accounts and shared_address_days."""
WARDROBING = timedelta(days=7)
"""The default [returns] wardrobing_days: worn and asked back within a week of delivery."""
SELLER_FAULT = frozenset({"damaged_defective", "wrong_item", "not_as_described"})
"""Reasons under which an item may come back damaged: the store sent it so."""

RETURN_RATE = {
    Behaviour.LOYAL: 0.08,
    Behaviour.ONE_OFF: 0.10,
    Behaviour.VIP: 0.12,
    Behaviour.FRAUDSTER: 0.35,
    Behaviour.SERIAL_RETURNER: 0.75,
    Behaviour.ANGRY: 0.15,
}
"""Share of a customer's delivered orders they send something back from."""

STORIES = {
    "honest": 0.67,
    "late": 0.08,
    "goodwill": 0.07,
    "empty_box": 0.04,
    "worn": 0.05,
    "damaged_by_customer": 0.03,
    "item_not_in_order": 0.04,
    "more_than_bought": 0.02,
}
"""What lies behind a return, by how often (a fraudster's are mostly empty boxes and swaps)."""
FRAUDSTER_STORIES = {"honest": 0.3, "empty_box": 0.4, "item_not_in_order": 0.3}

CATEGORIES = {
    "size_fit": 0.35,
    "damaged_defective": 0.12,
    "not_as_described": 0.14,
    "wrong_item": 0.06,
    "arrived_late": 0.04,
    "changed_mind": 0.21,
    "other": 0.08,
}
"""Why customers say they send things back (a fashion-leaning store)."""
NOT_THE_STORES_FAULT = ("size_fit", "changed_mind", "other")
WORN = frozenset({"shirt", "scarf", "belt", "jacket", "shoes", "tee", "jeans", "beanie", "tie", "hat", "socks", "vest"})
"""Last words of the titles of things one wears: the others do not come back for their size."""

PHRASES = {
    "size_fit": [
        "The {item} is too small, I need a size up.",
        "Way too big on me, the {item} doesn't fit at all.",
        "Doesn't fit. I usually take a medium but this one runs really small.",
        "The sleeves are too short for me.",
        "Too tight across the shoulders even though I ordered my usual size.",
        "A bit loose around the waist, sending it back.",
        "Wrong size for me, it's huge.",
        "Sizing is off: the {item} is much tighter than the size chart says.",
        "It fits badly, the length is all wrong for my height.",
    ],
    "damaged_defective": [
        "The {item} arrived broken.",
        "It came with a crack along the side.",
        "The stitching came apart after one wash.",
        "Faulty: the zip is jammed and won't close.",
        "The {item} was damaged in the box, there's a tear in it.",
        "Stopped working after two days.",
        "There's a hole in the seam and a stain on the front.",
        "Defective item, the strap snapped the first time I used it.",
    ],
    "not_as_described": [
        "The colour is nothing like the photos.",
        "It looks much cheaper than on the website.",
        "The material isn't what the description said, it's polyester not cotton.",
        "Not as described: the {item} is thinner than advertised.",
        "The picture shows a different shade of blue.",
        "The quality is not what the product page promised.",
    ],
    "wrong_item": [
        "You sent me the wrong item, this is not the {item} I ordered.",
        "This isn't what I ordered, a different colour came.",
        "I received a different product than the one in my order.",
        "Wrong article in the parcel.",
    ],
    "arrived_late": [
        "It arrived too late for the trip I bought it for.",
        "Came a week after the birthday, no use to me now.",
        "Delivery took so long that I bought one in a shop.",
    ],
    "changed_mind": [
        "Changed my mind, I don't need it anymore.",
        "I found it cheaper elsewhere.",
        "Not for me after all.",
        "Bought two colours to compare, keeping the other one.",
        "I no longer need the {item}.",
        "Ordered by mistake.",
        "Don't like it as much as I thought I would.",
    ],
    "other": [
        "It was a gift and the person didn't want it.",
        "Return please.",
        "",
        "My partner ordered the same thing, so we have two.",
        "Sending back the {item}.",
    ],
}
"""How customers put each reason (written for the simulator; varied on purpose)."""
GOODWILL_ASKS = [
    "I know it's past the 30 days, but could you make an exception?",
    "I realise I'm late with this; would you accept it as a goodwill gesture?",
    "I'm a little outside the return window, sorry. I'd be grateful if you could still take it back.",
    "Is there any chance you could still accept it? I was travelling for a month.",
    "I missed the deadline by a few days because I was in hospital. Please could you make an exception?",
    "Could you be flexible on the return date this once? I've been a customer for years.",
]
"""A customer asking for an exception to the window, in their words."""
OPENERS = ["", "", "", "Hi, ", "Hello, ", "Order {number}: "]
CLOSERS = ["", "", "", " Thanks.", " Thank you!", " Cheers"]
CHANNELS = ["portal", "portal", "portal", "email", "chat"]
CONDITION_NOTES = {"empty": "The box was empty.", "worn": "Tags removed, signs of wear.", "damaged": "Damaged."}


def rma_of(number: str) -> str:
    """The return number of order ``number``'s return (one return per order): ``R-SIM<seed>-<n>``."""
    return f"R-SIM{number}"


def day_events(world: World, day: datetime, day_index: int) -> list[tuple[NewEvent, list[Truth]]]:
    """The day's return requests: customers whose orders were just delivered decide whether (and
    when) they will send something back, and those whose moment has come ask for it."""
    for number in list(world.parcels):
        if number in world.return_plans or world.orders.get(number, {}).get("cancelled"):
            continue
        delivered = world.delivered(number)
        if delivered is not None:
            world.return_plans[number] = _plan(world, number, delivered)
    end = day + timedelta(days=1)
    due = sorted(
        (story for story in world.returns.values() if day <= story["ask_at"] < end and "asked" not in story),
        key=lambda story: (story["ask_at"], story["rma"]),
    )
    return [_request(world, story) for story in due]


def _customer(world: World, customer_id: str) -> Customer:
    return next(customer for customer in world.customers if customer.id == customer_id)


def _plan(world: World, number: str, delivered: datetime) -> str | None:
    """Whether order ``number``'s customer will send something back, what, when and why: drawn
    from the order's own stream, so one order's story never shifts another's."""
    rng = random.Random(f"{world.seed}:return:{number}")
    order = world.orders[number]
    customer = _customer(world, order["customer"])
    if rng.random() >= RETURN_RATE[customer.behaviour]:
        return None
    stories = FRAUDSTER_STORIES if customer.behaviour is Behaviour.FRAUDSTER else STORIES
    story = rng.choices(list(stories), list(stories.values()))[0]
    category = rng.choices(list(CATEGORIES), list(CATEGORIES.values()))[0]
    if story == "damaged_by_customer":
        category = rng.choice(NOT_THE_STORES_FAULT)
    units = bought(order["lines"])
    lines: list[dict[str, Any]] = []  # empty: every unit of the order
    if rng.random() < 0.5 or story in ("item_not_in_order", "more_than_bought"):
        skus = sorted(units)
        picked = rng.sample(skus, rng.randint(1, min(2, len(skus))))
        lines = [{"sku": sku, "quantity": rng.randint(1, units[sku])} for sku in picked]
    if story == "item_not_in_order":
        # something else goes in the box: a cheaper item bought elsewhere
        others = [product.sku for product in world.products if product.sku not in units]
        lines = [{"sku": rng.choice(others), "quantity": 1}]
    elif story == "more_than_bought":
        lines = [{"sku": lines[0]["sku"], "quantity": units[lines[0]["sku"]] + rng.randint(1, 2)}]
    if story in ("late", "goodwill"):
        days = rng.randint(31, 48)
    elif story == "worn":
        days = rng.randint(1, 5) if rng.random() < 0.5 else rng.randint(9, 25)
    else:
        days = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12, 14, 18, 21, 25, 28])
    ask_at = delivered + timedelta(days=days, seconds=rng.randint(0, 20 * 3600))
    if story == "damaged_by_customer":
        condition = "damaged"
    elif story in ("empty_box", "worn"):
        condition = {"empty_box": "empty", "worn": "worn"}[story]
    elif category == "damaged_defective":
        condition = "damaged" if rng.random() < 0.75 else "opened"
    else:
        condition = rng.choice(["new", "new", "opened"])
    titles = {product.sku: product.title.split(" (")[0].lower() for product in world.products}
    item = titles.get(lines[0]["sku"] if lines else order["lines"][0]["sku"], "item")
    if category == "size_fit" and item.split()[-1] not in WORN:
        # (a customer who damaged it will not blame the description)
        category = (
            "changed_mind" if story == "damaged_by_customer" else rng.choice(["changed_mind", "not_as_described"])
        )
    text = rng.choice(PHRASES[category]).format(item=item)
    if story == "goodwill":
        text = f"{text} {rng.choice(GOODWILL_ASKS)}".strip()
    if text:
        text = f"{rng.choice(OPENERS).format(number=number)}{text}{rng.choice(CLOSERS)}"
    rma = rma_of(number)
    world.returns[rma] = {
        "rma": rma,
        "order": number,
        "customer": customer.id,
        "email": customer.email,
        "ship_to": order["ship_to"],
        "delivered": delivered,
        "ask_at": ask_at,
        "story": story,
        "category": category,
        "lines": lines,
        "text": text,
        "condition": condition,
        "channel": rng.choice(CHANNELS),
    }
    return rma


def refund_minor(order: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    """What the units sent back cost the customer (every unit of the order when ``lines`` is empty;
    nothing for an item they did not buy, and no more units than they bought)."""
    units = bought(order["lines"])
    paid: dict[str, int] = {}
    for line in order["lines"]:
        paid[line["sku"]] = paid.get(line["sku"], 0) + int(line["quantity"]) * int(line["unit_price_minor"])
    wanted = {line["sku"]: int(line["quantity"]) for line in lines} if lines else units
    return sum(paid[sku] * min(quantity, units[sku]) // units[sku] for sku, quantity in wanted.items() if sku in units)


def _request(world: World, story: dict[str, Any]) -> tuple[NewEvent, list[Truth]]:
    """The customer asks for their return; its truth is what the world knows at that moment."""
    rma, number, asked = story["rma"], story["order"], story["ask_at"]
    subject = f"return:{rma}"
    order = world.orders[number]
    truths: list[Truth] = []
    kind = story["story"]
    since_delivery = round((asked - story["delivered"]).total_seconds() / 86400, 1)
    if asked > story["delivered"] + WINDOW:
        truths.append(Truth(subject, "outside_policy", {"pattern": "late", "days_after_delivery": since_delivery}))
    if kind == "goodwill":
        truths.append(Truth(subject, "goodwill_request", {"pattern": "goodwill"}))
    refund = refund_minor(order, story["lines"])
    if refund > AUTO_REFUND_MAX_MINOR:
        truths.append(Truth(subject, "refund_over_threshold", {"refund_minor": refund}))
    if kind in ("item_not_in_order", "more_than_bought"):
        truths.append(Truth(subject, "suspicious_return_pattern", {"pattern": kind}))
    history = _history(world, story)
    if history["orders"] >= SERIAL_MIN_ORDERS and history["orders_with_returns"] / history["orders"] > SERIAL_RATE:
        truths.append(Truth(subject, "suspicious_return_pattern", {"pattern": "serial_returner", **history}))
    accounts = _accounts_at_address(world, story)
    if accounts >= SHARED_ACCOUNTS:
        truths.append(Truth(subject, "suspicious_return_pattern", {"pattern": "shared_address", "accounts": accounts}))
    if not truths:
        truths.append(Truth(subject, "routine", {"story": kind}))
    story["asked"] = True
    payload = {
        "rma": rma,
        "order_number": number,
        "order_subject": f"order:sim:{number}",
        "customer_email": story["email"],
        "lines": story["lines"],
        "reason": story["text"],
        "channel": story["channel"],
    }
    event = world.event("return.requested", subject, asked, payload, external_id=f"sim-{world.seed}-{rma}-requested")
    return event, truths


def _history(world: World, story: dict[str, Any]) -> dict[str, int]:
    """The customer's orders placed before they ask, and how many of them they asked to return
    (this one included): every request they made, whatever the store answered. ``turned_down``:
    how many of those the simulated team had rejected by then."""
    customer, asked = story["customer"], story["ask_at"]
    placed = sum(1 for order in world.orders.values() if order.get("customer") == customer and order["at"] < asked)
    earlier = [r for r in world.returns.values() if r["customer"] == customer and r["ask_at"] < asked]
    with_returns = {r["order"] for r in earlier} | {story["order"]}
    turned_down = sum(1 for r in earlier if r.get("turned_down") is not None and r["turned_down"] <= asked)
    return {
        "orders": max(placed, len(with_returns)),
        "orders_with_returns": len(with_returns),
        "turned_down": turned_down,
    }


def _accounts_at_address(world: World, story: dict[str, Any]) -> int:
    """Customer accounts that asked to return an order shipped to this one's address within the
    shared-address window, this customer included."""
    asked = story["ask_at"]
    return len(
        {
            r["customer"]
            for r in world.returns.values()
            if r["ship_to"] == story["ship_to"] and asked - SHARED_DAYS <= r["ask_at"] < asked
        }
        | {story["customer"]}
    )


def parcel_back(
    world: World, subject: str, day: datetime, warehouse: str | None = None
) -> list[tuple[NewEvent, list[Truth]]]:
    """Storeops sent the customer the label of return ``subject`` before ``day``: they post the
    parcel, and ``warehouse`` (else the world's first) inspects it when it arrives (once, however
    often the label came), putting units that are as good as new back on its shelf."""
    story = world.returns.get(subject.removeprefix("return:"))
    if story is None or "sent_back" in story:
        return []
    story["sent_back"] = True
    rma = story["rma"]
    rng = random.Random(f"{world.seed}:return-parcel:{rma}")
    arrives = day + timedelta(days=rng.randint(1, 4), hours=rng.randint(9, 17), minutes=rng.randint(0, 59))
    condition = story["condition"]
    truths: list[Truth] = []
    if condition == "empty":
        truths.append(Truth(subject, "suspicious_return_pattern", {"pattern": "empty_box"}))
    elif condition == "worn":
        days = round((story["ask_at"] - story["delivered"]).total_seconds() / 86400, 1)
        pattern = "wardrobing" if story["ask_at"] - story["delivered"] <= WARDROBING else "worn_item"
        truths.append(Truth(subject, "suspicious_return_pattern", {"pattern": pattern, "days_after_delivery": days}))
    elif condition == "damaged" and story["category"] not in SELLER_FAULT:
        truths.append(Truth(subject, "outside_policy", {"pattern": "damaged_by_customer"}))
    if condition in ("new", "opened"):
        order = world.orders[story["order"]]
        units = bought(order["lines"])
        sent = {line["sku"]: int(line["quantity"]) for line in story["lines"]} if story["lines"] else units
        for sku, quantity in sorted(sent.items()):
            if sku in units:  # what the customer had: no more units than they bought
                world.happens((sku, warehouse or world.warehouses[0]), arrives, min(quantity, units[sku]))
    payload: dict[str, Any] = {"rma": rma, "condition": condition}
    if condition in CONDITION_NOTES:
        payload["note"] = CONDITION_NOTES[condition]
    event = world.event("return.received", subject, arrives, payload, external_id=f"sim-{world.seed}-{rma}-received")
    return [(event, truths)]


__all__ = ["day_events", "parcel_back", "refund_minor", "rma_of"]
