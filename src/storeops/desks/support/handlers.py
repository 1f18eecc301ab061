"""The support desk: answer what automation can answer, hand the rest to a person with a draft.

Order status is only ever given to the customer the order belongs to (the message's email
or customer must match the order's).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storeops.desks.orders import api as orders_api
from storeops.desks.returns import api as returns_api
from storeops.desks.support.entities import strip_pleasantries
from storeops.desks.support.events import DraftReady, MessageReceived
from storeops.desks.support.knowledge import knowledge_base, search_text
from storeops.desks.support.nlu import SupportModels, Understanding
from storeops.desks.support.policy import SupportPolicy
from storeops.desks.support.reasons import SupportReason
from storeops.desks.support.resolutions import reply_target
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.events import Event, NewEvent
from storeops.engine.inbox import revise_suggestion
from storeops.engine.policy import Policy
from storeops.storage.schema import handoffs

ORDER_TOPICS = ("order_status", "cancellation", "order_change", "address_change")
"""Topics answered from the order itself (after verifying the customer), not the knowledge base."""
PERSONAL_TOPICS = ("human", "complaint")
"""Topics no knowledge-base page answers: a person or the rules above take them."""
STATUS_WHEN_NAMED = ("order_status", "delivery", "faq")
"""Readings that become an order-status question when the message names a verified order:
"When will order 2204 arrive?" from its customer asks about that order, not delivery times."""


def lock_keys(event: Event) -> list[str]:
    """A message reads its writer's orders and customer record (``orders.api``): it is decided
    after the orders its writer placed before it, with one worker or many."""
    if event.kind != "ticket.message_received":
        return []
    keys = []
    customer_id, email = event.payload.get("customer_id"), event.payload.get("customer_email")
    if isinstance(customer_id, str) and customer_id:
        keys.append(f"customer:{event.source}:{customer_id}")
    if isinstance(email, str) and email.strip():
        keys.append(f"email:{email.strip().lower()}")
    return keys


def message_received(event: Event, ctx: HandlerContext) -> Decision:
    """Understand the message, then answer it or hand it to a person."""
    message = event.parsed(MessageReceived)
    policy = ctx.settings(SupportPolicy)
    conn = ctx.conn
    models: SupportModels | None = ctx.models
    if models is None:
        return _hand_off(
            event,
            message,
            None,
            [SupportReason.LOW_CONFIDENCE],
            {"problem": "no support model could be loaded; storeops status says why"},
            ctx,
        )
    understanding = models.understand(message.text, min_confidence=policy.issue_confidence)
    reasons: list[SupportReason] = []
    evidence: dict[str, Any] = {
        **understanding.as_json(),
        "text": message.text,
        "conversation": message.conversation_id,
        "model": models.version,
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
    topic = top.topic if top else None
    sure = top is not None and top.confidence >= policy.intent_confidence_threshold
    order = _verified_order(ctx, message, understanding)
    named = _order_number(message, understanding)
    if named:
        evidence["order"] = {"number": named, "verified": order is not None}
    # An order number and a verified sender make an order-status question, whatever greets it,
    # unless the message clearly asks for something else about that order.
    # Named in the text, a delivery or FAQ reading or an unsure one becomes order status; sent
    # only beside the message (a chat widget sends the last order with every message), only an
    # unsure one does.
    if order is not None and not understanding.pleasantry_only:
        status_question = not sure or topic in (STATUS_WHEN_NAMED if understanding.order_numbers else ("order_status",))
        if status_question:
            topic, sure = "order_status", True
            evidence["rule"] = "verified_order"
    if not sure and not understanding.pleasantry_only:
        reasons.append(SupportReason.LOW_CONFIDENCE)
    if message.customer_id:
        customer = orders_api.customer(conn, f"customer:{event.source}:{message.customer_id}")
        vip_value = ctx.policy.money(policy.vip_lifetime_value).minor
        if customer is not None and (set(customer.tags) & set(policy.vip_tags) or customer.lifetime_minor >= vip_value):
            reasons.append(SupportReason.VIP_CUSTOMER)
            evidence["customer"] = {
                "tags": list(customer.tags),
                "lifetime_minor": customer.lifetime_minor,
                "vip_minor": vip_value,
            }
    match = None
    # "Return order 1042" opens a return; "what is your return policy" is answered from the pages.
    # The intent data has no "return this item" class, so an explicit request naming an order is
    # recognised by its words (and never when it asks about the policy).
    returning = bool(
        topic is not None
        and topic not in ("cancellation", "order_status")
        and WANTS_RETURN.search(message.text)
        and not POLICY_QUESTION.search(message.text)
        and named
    )
    if topic is not None and not returning and topic not in (*ORDER_TOPICS, *PERSONAL_TOPICS):
        sure_of = top.intent if top is not None and top.confidence >= policy.issue_confidence else None
        match = knowledge_base(policy.knowledge_base).best(search_text(_question(message.text), sure_of), topic)
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
    if understanding.pleasantry_only:
        return _answer(event, message, evidence, _GREETING_REPLY if not THANKS.search(message.text) else _WELCOME)
    assert topic is not None
    if topic == "cancellation" and named:
        return _cancellation(event, ctx, message, understanding, evidence)
    if returning:
        return _return(event, ctx, message, understanding, evidence, policy)
    if topic in ("order_change", "address_change") and order is not None:
        return _change_request(event, ctx, message, order, topic, evidence)
    if match is not None:
        reply = match.entry.answer
        if order is not None and topic in ("refund", "returns"):
            reply = f"{reply} {_what_applies(order, event, ctx.policy)}"
    else:
        reply = _order_answer(order, message, understanding, topic)
    return _answer(event, message, evidence, reply)


WANTS_RETURN = re.compile(r"\b(return|send (it|them|this|these) back|exchange|rma)\b", re.IGNORECASE)
POLICY_QUESTION = re.compile(r"\b(polic(y|ies)|how (do|can) i|can i)\b", re.IGNORECASE)
ASK_FOR_PROOF = "Happy to help with your order. Please reply with its number and the email you ordered with."
THANKS = re.compile(r"\b(thanks|thank you|thx|cheers|ty)\b", re.IGNORECASE)
_GREETING_REPLY = "Hello! How can we help you today?"
_WELCOME = "You're welcome! Write to us any time if there is anything else we can do."


def _question(text: str) -> str:
    """The message as the knowledge base should read it: without greetings and thanks."""
    return strip_pleasantries(text) or text


def _order_number(message: MessageReceived, understanding: Understanding) -> str | None:
    return message.order_number or (understanding.order_numbers[0] if understanding.order_numbers else None)


def _verified_order(
    ctx: HandlerContext, message: MessageReceived, understanding: Understanding
) -> orders_api.OrderView | None:
    """The order the message names, only when it belongs to whoever wrote (else None)."""
    number = _order_number(message, understanding)
    if not number:
        return None
    order = orders_api.order_by_number(ctx.conn, number)
    if order is None or not order.belongs_to(email=message.customer_email, customer_id=message.customer_id):
        return None
    return order


def _ask_for_proof(message: MessageReceived, understanding: Understanding) -> str:
    """What to ask for when the order is not verified, without asking again for what was given
    and without saying whether the order exists."""
    number = _order_number(message, understanding)
    if number and message.customer_email:
        return (
            f"I could not find order {number} for {message.customer_email}. Please check the number, or write "
            "to us from the email address you ordered with."
        )
    if number:
        return f"Happy to help with order {number}. Please reply with the email address you ordered with."
    if message.customer_email:
        return "Happy to help with your order. Please reply with its number (it is in your order confirmation)."
    return ASK_FOR_PROOF


def _what_applies(order: Any, event: Event, ctx_policy: Policy) -> str:
    """What the refund and return rules mean for the customer's own order."""
    if order.status == "cancelled":
        return f"Your order {order.number} is cancelled, so its full amount goes back to your payment method."
    if order.status not in ("shipped", "delivered"):
        return (
            f"Your order {order.number} has not shipped yet: reply 'cancel order {order.number}' and we cancel it "
            "and refund you in full."
        )
    since = order.last_scan_at or order.placed_at
    days = returns_api.window_days(ctx_policy)
    until = since + timedelta(days=days)
    if event.occurred_at > until:
        return (
            f"Your order {order.number} shipped on {since:%d %B %Y}, more than {days} days "
            "ago; reply if you would like us to look at it anyway."
        )
    return (
        f"Your order {order.number} can be returned until {until:%d %B %Y}: reply 'return order {order.number}' "
        "for your return number."
    )


def _answer(event: Event, message: MessageReceived, evidence: dict[str, Any], reply: str, **more: Any) -> Decision:
    return Decision(
        action=more.pop("action", "support.answer"),
        evidence={**evidence, **more, "reply": reply},
        task="support.answer",
        actor=f"automation:support@{evidence['model']}",
        outbox=(_send(event, message, reply),),
    )


def _cancellation(
    event: Event, ctx: HandlerContext, message: MessageReceived, understanding: Understanding, evidence: dict[str, Any]
) -> Decision:
    """Cancel a verified order that has not shipped, through the orders desk (which refunds it)."""
    order = _verified_order(ctx, message, understanding)
    if order is None:
        return _answer(event, message, evidence, _ask_for_proof(message, understanding))
    if order.status == "cancelled":
        return _answer(event, message, evidence, f"Your order {order.number} is already cancelled.")
    if order.status in ("shipped", "delivered"):
        reply = (
            f"Your order {order.number} has already shipped, so it can no longer be cancelled. Once it arrives "
            "you can return it: write to us with the order number and we will send you a return label."
        )
        return _answer(event, message, evidence, reply)
    cancel_request = (
        NewEvent(
            source="storeops.support",
            external_id=f"{event.source}:{event.external_id}:cancel",
            kind="order.cancel_requested",
            subject=order.subject,
            occurred_at=event.occurred_at,
            payload={
                "order_number": order.number,
                "reason": "the customer asked support to cancel",
                "conversation_id": message.conversation_id,
            },
        ),
    )
    reply = (
        f"Your order {order.number} is being cancelled now, and the full amount goes back to your payment "
        "method within 5 business days. You will get a confirmation email."
    )
    return replace(
        _answer(event, message, evidence, reply, action="support.cancel", order=order.subject),
        follow_ups=cancel_request,
    )


def _return(
    event: Event,
    ctx: HandlerContext,
    message: MessageReceived,
    understanding: Understanding,
    evidence: dict[str, Any],
    policy: SupportPolicy,
) -> Decision:
    """A verified customer asks to send an order back: the returns desk decides (window, final sale,
    refund, label) and mails the customer; the reply promises only that mail."""
    order = _verified_order(ctx, message, understanding)
    if order is None:
        return _answer(event, message, evidence, _ask_for_proof(message, understanding))
    if order.status not in ("shipped", "delivered"):
        reply = (
            f"Your order {order.number} has not shipped yet, so there is nothing to send back: "
            "reply 'cancel' if you would rather cancel it."
        )
        return _answer(event, message, evidence, reply)
    rma = returns_api.new_rma(f"{event.source}:{event.external_id}")
    return_request = (
        NewEvent(
            source="storeops.support",
            external_id=f"{order.subject}:{rma}",
            kind="return.requested",
            subject=f"return:{rma}",
            occurred_at=event.occurred_at,
            payload={
                "rma": rma,
                "order_number": order.number,
                "order_subject": order.subject,
                "conversation_id": message.conversation_id,
                "customer_email": message.customer_email or order.email,
                "reason": message.text,
                "channel": "email" if message.channel == "email" else "chat",
            },
        ),
    )
    reply = (
        f"Your return request {rma} for order {order.number} is with our returns team. "
        "You will get an email shortly: a return label and what happens next, or what we need from you."
    )
    return replace(
        _answer(event, message, evidence, reply, action="support.return_opened", rma=rma, order=order.subject),
        follow_ups=return_request,
    )


def _change_request(
    event: Event,
    ctx: HandlerContext,
    message: MessageReceived,
    order: orders_api.OrderView,
    topic: str,
    evidence: dict[str, Any],
) -> Decision:
    """A verified customer asks to change an order: the orders desk gets the task (a person makes
    the change), and the reply says what happens next — never a promise nobody is given."""
    if order.status in ("shipped", "delivered", "cancelled"):
        state = {"shipped": "has already shipped", "delivered": "was delivered", "cancelled": "was cancelled"}
        reply = f"Your order {order.number} {state[order.status]}, so it can no longer be changed."
        return _answer(event, message, evidence, reply)
    minutes = ctx.policy.sla_minutes("orders")
    when = f"{minutes // 60} hours" if minutes >= 120 else f"{minutes} minutes"
    request = NewEvent(
        source="storeops.support",
        external_id=f"{event.source}:{event.external_id}:change",
        kind="order.change_requested",
        subject=order.subject,
        occurred_at=event.occurred_at,
        payload={
            "order_number": order.number,
            "what": topic,
            "text": message.text[:5000],
            "conversation_id": message.conversation_id,
            "customer_email": message.customer_email,
        },
    )
    what = "the new address" if topic == "address_change" else "the change"
    reply = (
        f"We have passed your request for order {order.number} to our order team: someone will make {what} "
        f"and confirm by email within {when}. If the parcel leaves before then, we will tell you."
    )
    return replace(
        _answer(event, message, evidence, reply, action="support.change_requested", order=order.subject),
        follow_ups=(request,),
    )


def _order_answer(order: Any, message: MessageReceived, understanding: Understanding, topic: str) -> str:
    """The order's own status, only for the customer it belongs to."""
    if order is None:
        # Never reveal another customer's order: ask for what proves it is theirs.
        return _ask_for_proof(message, understanding)
    status = {
        "held": "being checked by our team",
        "fulfilling": "being packed",
        "shipped": "on its way",
        "delivered": "delivered",
        "cancelled": "cancelled",
    }.get(order.status, order.status)
    scanned = order.status == "shipped" and order.last_scan_at is not None
    scan = f" (last carrier scan {order.last_scan_at:%d %B})" if scanned else ""
    tracking = f" Tracking: {order.tracking_number}." if order.tracking_number else ""
    return f"Your order {order.number} is {status}{scan}.{tracking}"


def _send(event: Event, message: MessageReceived, text: str) -> OutboxMessage:
    payload: dict[str, Any] = {
        "conversation": message.conversation_id,
        "to": message.customer_email,
        "channel": message.channel,
        "text": text,
    }
    if message.message_id:
        # Threading: the reply answers the customer's own mail (In-Reply-To, References, Re: subject).
        payload |= {
            "in_reply_to": message.message_id,
            "references": message.references,
            "email_subject": message.email_subject,
        }
    return OutboxMessage("email" if message.channel == "email" else "chat", "reply.send", payload)


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
    outbox = [_send(event, message, holding)]
    if ctx.settings(SupportPolicy).llm_base_url:
        outbox.append(
            OutboxMessage(
                "drafter",
                "reply.draft",
                {"subject": event.subject, "event_id": event.id, "text": message.text, "policy_text": draft},
            )
        )
    return Decision(
        action="support.hand_off",
        reasons=tuple(reasons),
        evidence={**evidence, "holding_reply": holding, "reply_to": reply_target(message.model_dump())},
        handoff=HandoffRequest(
            role="support",
            suggestion=draft or "Answer the customer personally.",
            priority=1 if SupportReason.SENSITIVE_TOPIC in reasons else 2,
        ),
        outbox=tuple(outbox),
    )


PROMISE = re.compile(
    r"\b(refund\w*|discount\w*|voucher\w*|coupon\w*|compensat\w*|free|guarantee\w*|reimburs\w*)\b"
    r"|\d+(?:[.,]\d+)?\s?%|[€$£]\s?\d|\b\d+(?:[.,]\d+)?\s?(?:eur|euros?|usd|dollars?|gbp|pounds?)\b"
    r"|\bwithin \d+ (?:hours?|days?|weeks?)\b",
    re.IGNORECASE,
)


def outside_policy(draft: str, policy_text: str) -> list[str]:
    """The promises in ``draft`` (refunds, discounts, amounts, deadlines) that ``policy_text`` does not make."""
    allowed = policy_text.lower()
    return sorted({m.group(0).lower() for m in PROMISE.finditer(draft) if m.group(0).lower() not in allowed})


def draft_ready(event: Event, ctx: HandlerContext) -> Decision | None:
    """A model's draft for a handed-off message: shown to the person only if it promises nothing beyond policy."""
    ready = event.parsed(DraftReady)
    row = ctx.conn.execute(
        select(handoffs.c.id, handoffs.c.suggestion).where(
            handoffs.c.event_id == ready.event_id, handoffs.c.state.in_(("open", "claimed"))
        )
    ).first()
    if row is None:
        return None  # already decided; a late draft helps nobody
    promises = outside_policy(ready.draft, row.suggestion)
    evidence: dict[str, Any] = {"handoff_id": row.id, "model": ready.model, "draft": ready.draft}
    if promises:
        return Decision(action="support.draft_rejected", evidence={**evidence, "outside_policy": promises})
    revise_suggestion(
        ctx.conn,
        event_id=ready.event_id,
        suggestion=ready.draft,
        actor=f"automation:support.drafter@{ready.model or 'llm'}",
        desk=ctx.desk,
        now=ctx.now,
        evidence={"model": ready.model},
    )
    return Decision(action="support.draft_added", evidence=evidence, task="support.draft")
