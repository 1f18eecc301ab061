"""Simulated support conversations, drawn from real Bitext customer-service utterances."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from storeops.datasets import bitext_utterances
from storeops.engine.events import NewEvent
from storeops.simulate.truth import Truth
from storeops.simulate.world import Behaviour, Customer, World

MESSAGES_PER_DAY = 14
ANGRY_OPENERS = [
    "This is absolutely ridiculous.",
    "I am furious and fed up with you people.",
    "Worst service I have ever had, unacceptable!",
    "Third time I'm writing and still nothing, this is a joke.",
]
SENSITIVE = [
    "I will dispute this charge with my bank and file a chargeback.",
    "My lawyer will be in touch about this.",
    "The charger you sold me caught fire and burned my hand.",
    "Delete all my personal data under GDPR right now.",
]
ROUTINE_INTENTS = [
    "track_order",
    "delivery_period",
    "delivery_options",
    "check_refund_policy",
    "check_payment_methods",
    "change_shipping_address",
    "cancel_order",
    "check_invoice",
    "recover_password",
    "track_refund",
    "change_order",
    "get_refund",
    "get_invoice",
    "edit_account",
]


def utterances() -> dict[str, list[str]]:
    """Bitext utterances by intent."""
    return _by_intent()


@cache
def _by_intent() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for intent, _category, text in bitext_utterances():
        by_intent.setdefault(intent, []).append(text)
    return by_intent


VIP_LIFETIME_MINOR = 200_000
"""The support policy's default ``vip_lifetime_value`` (2000.00 EUR): a customer who has spent
that much is a VIP whatever their tags."""


def _say(world: World, intent: str) -> str:
    return world.rng.choice(utterances()[intent])


def day_events(world: World, day: datetime, day_index: int) -> list[tuple[NewEvent, list[Truth]]]:
    """One day's customer messages, each a new conversation with its ground truth."""
    rng = world.rng
    out: list[tuple[NewEvent, list[Truth]]] = []
    for number in range(max(1, int(rng.gauss(MESSAGES_PER_DAY, 3)))):
        customer: Customer = rng.choice(world.customers)
        conversation = f"sim-{world.seed}-{day_index}-{number}"
        subject = f"ticket:sim:{conversation}"
        roll = rng.random()
        labels: list[str] = []
        intents: list[str]
        if customer.behaviour is Behaviour.ANGRY or roll < 0.05:
            intents = ["complaint"]
            text = f"{rng.choice(ANGRY_OPENERS)} {_say(world, 'complaint')}"
            labels.append("negative_sentiment")
        elif roll < 0.07:
            intents = ["sensitive"]
            text = rng.choice(SENSITIVE)
            labels.append("sensitive_topic")
        elif roll < 0.15:
            first, second = rng.sample(ROUTINE_INTENTS, 2)
            intents = [first, second]
            text = f"{_say(world, first)} Also, {_say(world, second)}"
            labels.append("multi_issue")
        elif roll < 0.20:
            intents = ["contact_human_agent"]
            text = _say(world, "contact_human_agent")
            labels.append("asked_for_human")
        else:
            intents = [rng.choice(ROUTINE_INTENTS)]
            text = _say(world, intents[0])
        at = world.moment(day) + timedelta(seconds=number)
        mine = [
            n
            for n, o in world.orders.items()
            if not n.startswith("mismatch:") and o["customer"] == customer.id and o["at"] < at
        ]
        spent = sum(world.orders[n]["total_minor"] for n in mine)
        if customer.behaviour is Behaviour.VIP or spent >= VIP_LIFETIME_MINOR:
            labels.append("vip_customer")
        payload = {
            "conversation_id": conversation,
            "text": text[:5000],
            "channel": rng.choice(["chat", "chat", "email"]),
            "customer_email": customer.email,
            "customer_id": customer.id,
            "order_number": mine[-1] if mine else None,
        }
        truths = [Truth(subject, label, {"intents": intents}) for label in labels] or [
            Truth(subject, "routine", {"intents": intents})
        ]
        out.append((world.event("ticket.message_received", subject, at, payload), truths))
    return out
