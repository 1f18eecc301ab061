"""The support desk: answer what automation can answer, hand the rest to a person with a draft.

Order status is only ever given to the customer the order belongs to (the message's email
or customer must match the order's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storeops.desks.orders.tables import customers, orders
from storeops.desks.support.events import MessageReceived
from storeops.desks.support.knowledge import knowledge_base
from storeops.desks.support.nlu import SupportModels, Understanding
from storeops.desks.support.policy import SupportPolicy
from storeops.desks.support.reasons import SupportReason
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.events import Event

MODELS: SupportModels | None = None
"""The trained NLU; set once at start-up by ``use_support_models``."""

ORDER_TOPICS = ("order_status", "cancellation", "order_change", "address_change", "refund")
"""Topics answered from the order itself (after verifying the customer), not the knowledge base."""
PERSONAL_TOPICS = ("human", "complaint")
"""Topics no knowledge-base page answers: a person or the rules above take them."""


def use_support_models(models: SupportModels | None) -> None:
    """Answer with ``models`` from now on (called once by the bootstrap)."""
    global MODELS
    MODELS = models


def message_received(event: Event, ctx: HandlerContext) -> Decision:
    """Understand the message, then answer it or hand it to a person."""
    message = event.parsed(MessageReceived)
    policy = ctx.settings(SupportPolicy)
    conn = ctx.conn
    if MODELS is None:
        return _hand_off(
            event,
            message,
            None,
            [SupportReason.LOW_CONFIDENCE],
            {"problem": "no support model is trained; run storeops models train support-nlu"},
            ctx,
        )
    understanding = MODELS.understand(message.text, min_confidence=policy.issue_confidence)
    reasons: list[SupportReason] = []
    evidence: dict[str, Any] = {
        **understanding.as_json(),
        "text": message.text,
        "conversation": message.conversation_id,
        "model": MODELS.version,
        "negative_sentiment_threshold": policy.negative_sentiment_threshold,
    }
    if understanding.sentiment_score < policy.negative_sentiment_threshold:
        reasons.append(SupportReason.NEGATIVE_SENTIMENT)
    if len(understanding.topics) >= 2:
        reasons.append(SupportReason.MULTI_ISSUE)
    if understanding.sensitive:
        reasons.append(SupportReason.SENSITIVE_TOPIC)
    if understanding.asked_for_human:
        reasons.append(SupportReason.ASKED_FOR_HUMAN)
    top = understanding.intents[0] if understanding.intents else None
    if top is None or top.confidence < policy.intent_confidence_threshold:
        reasons.append(SupportReason.LOW_CONFIDENCE)
    if message.customer_id:
        customer = conn.execute(
            select(customers.c.tags, customers.c.lifetime_minor).where(
                customers.c.key == f"customer:{event.source}:{message.customer_id}"
            )
        ).first()
        vip_value = ctx.policy.money(policy.vip_lifetime_value).minor
        if customer is not None and (set(customer.tags) & set(policy.vip_tags) or customer.lifetime_minor >= vip_value):
            reasons.append(SupportReason.VIP_CUSTOMER)
            evidence["customer"] = {
                "tags": list(customer.tags),
                "lifetime_minor": customer.lifetime_minor,
                "vip_minor": vip_value,
            }
    match = None
    if top is not None and top.topic not in (*ORDER_TOPICS, *PERSONAL_TOPICS):
        match = knowledge_base(policy.knowledge_base).best(message.text, top.topic)
        evidence["knowledge"] = {
            "question": match.entry.question,
            "page": match.entry.page,
            "similarity": match.similarity,
            "min_similarity": policy.knowledge_min_similarity,
        }
        # Not knowing the answer matters only when nothing else already sends this to a person.
        if match.similarity < policy.knowledge_min_similarity and not reasons:
            reasons.append(SupportReason.LOW_CONFIDENCE)
    if reasons:
        return _hand_off(
            event, message, understanding, reasons, evidence, ctx, draft=match.entry.answer if match else ""
        )
    assert top is not None
    reply = match.entry.answer if match else _order_answer(ctx, message, understanding, top.topic)
    evidence["reply"] = reply
    return Decision(
        action="support.answer",
        evidence=evidence,
        task="support.answer",
        actor=f"automation:support@{MODELS.version}",
        outbox=(_send(event, message, reply),),
    )


def _order_answer(ctx: HandlerContext, message: MessageReceived, understanding: Understanding, topic: str) -> str:
    """The order's own status, only for the customer it belongs to."""
    number = message.order_number or (understanding.order_numbers[0] if understanding.order_numbers else None)
    order = None
    if number:
        order = ctx.conn.execute(
            select(orders.c.number, orders.c.status, orders.c.tracking_number, orders.c.email, orders.c.customer)
            .where(orders.c.number == number)
            .limit(1)
        ).first()
    verified = order is not None and (
        (message.customer_email and order.email and message.customer_email.lower() == order.email.lower())
        or (message.customer_id and order.customer.endswith(f":{message.customer_id}"))
    )
    if not verified:
        # Never reveal another customer's order: ask for what proves it is theirs.
        return "Happy to help with your order. Please reply with its number and the email you ordered with."
    assert order is not None
    status = {
        "held": "being checked by our team",
        "fulfilling": "being packed",
        "shipped": "on its way",
        "delivered": "delivered",
        "cancelled": "cancelled",
    }.get(order.status, order.status)
    tracking = f" Tracking: {order.tracking_number}." if order.tracking_number else ""
    if topic == "order_status":
        return f"Your order {order.number} is {status}.{tracking}"
    return f"Your order {order.number} is {status}. A colleague will take care of the change you asked for.{tracking}"


def _send(event: Event, message: MessageReceived, text: str) -> OutboxMessage:
    return OutboxMessage(
        "email" if message.channel == "email" else "chat",
        "reply.send",
        {
            "conversation": message.conversation_id,
            "to": message.customer_email,
            "channel": message.channel,
            "text": text,
        },
    )


def _hand_off(
    event: Event,
    message: MessageReceived,
    understanding: Understanding | None,
    reasons: list[SupportReason],
    evidence: dict[str, Any],
    ctx: HandlerContext,
    draft: str = "",
) -> Decision:
    minutes = ctx.policy.sla_minutes("support")
    hours = f"{minutes // 60} hours" if minutes >= 120 else f"{minutes} minutes"
    holding = f"Thanks for your message. A member of our team will answer you personally within {hours}."
    if SupportReason.NEGATIVE_SENTIMENT in reasons:
        draft = "I am sorry about this experience. " + draft
    return Decision(
        action="support.hand_off",
        reasons=tuple(reasons),
        evidence={**evidence, "holding_reply": holding},
        handoff=HandoffRequest(
            role="support",
            suggestion=draft or "Answer the customer personally.",
            priority=1 if SupportReason.SENSITIVE_TOPIC in reasons else 2,
        ),
        outbox=(_send(event, message, holding),),
    )
