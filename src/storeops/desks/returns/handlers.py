"""The returns desk: open, refund and restock routine returns; hand the rest to a person.

A return request is checked against the order it names (the customer's own, shipped), the policy
(window, final sale) and the customer's history (patterns of abuse); its reason is read into the
taxonomy; what it refunds is worked out to the minor unit and never exceeds what was paid. Routine
returns get a label (or, when cheap, a refund without sending anything back) and are refunded on
receipt; everything else is a handoff with the facts that made it one (docs/returns.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from storeops.desks.inventory import api as inventory_api
from storeops.desks.orders import api as orders_api
from storeops.desks.returns import rules
from storeops.desks.returns.classify import ReasonClassifier
from storeops.desks.returns.events import ReturnLine, ReturnReceived, ReturnRequested
from storeops.desks.returns.policy import ReturnsPolicy
from storeops.desks.returns.reasons import ReturnReason
from storeops.desks.returns.tables import COUNTED_STATES, ReturnState, refunds, returned_units, returns
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.events import Event, NewEvent
from storeops.money import Money

EXCHANGE_SOURCE = "storeops.returns"
"""The source of an exchange's replacement order: storeops' own, so no storefront is asked to fulfil it."""
SELLER_FAULT = ("damaged_defective", "wrong_item", "not_as_described")
"""Reasons under which an item may come back damaged: the store sent it so."""
HISTORY_STATES = (*COUNTED_STATES, ReturnState.REJECTED.value)
"""Returns that make a customer's (and an address's) history: every return opened, a rejected one
too (a serial returner whose returns are rejected would otherwise look like a customer who
returns little, and the next return would go through). A refused request (not the customer's
order, nothing shipped) is no return of theirs."""


def lock_keys(event: Event) -> list[str]:
    """A request reads its customer's orders and returns and the order's earlier returns and refunds:
    it is decided after the orders its customer placed before it and after the order's earlier returns."""
    payload = event.payload
    number = payload.get("order_number")
    keys = [f"returns-order:{number.strip().removeprefix('#')}"] if isinstance(number, str) and number else []
    if event.kind == "return.requested":
        email, customer_id = payload.get("customer_email"), payload.get("customer_id")
        if isinstance(email, str) and email.strip():
            keys.append(f"email:{email.strip().lower()}")
        if isinstance(customer_id, str) and customer_id:
            keys.append(f"customer:{event.source}:{customer_id}")
    return keys


def _find(conn: Connection, rma: str) -> Any:
    row = conn.execute(select(returns).where(returns.c.rma == rma)).first()
    return row._mapping if row is not None else None


def refunded_so_far(conn: Connection, order_subject: str) -> int:
    """Everything refunded on the order so far, by storeops or at the storefront."""
    total = conn.execute(select(func.sum(refunds.c.amount_minor)).where(refunds.c.order_subject == order_subject))
    return int(total.scalar_one() or 0)


def _classifier(ctx: HandlerContext) -> ReasonClassifier:
    models = ctx.models
    if models is None:
        from storeops.desks.returns.classify import default_classifier

        return default_classifier()
    return models  # type: ignore[no-any-return]


def _tracking(rma: str) -> str:
    return "RT" + hashlib.sha256(rma.encode()).hexdigest()[:10].upper()


def return_requested(event: Event, ctx: HandlerContext) -> Decision | None:
    """Decide a return request: refuse it, hand it to a person, refund it outright or send a label."""
    request = event.parsed(ReturnRequested)
    conn, now, asked = ctx.conn, ctx.now, event.occurred_at
    policy = ctx.settings(ReturnsPolicy)
    if _find(conn, request.rma) is not None:
        return None  # the same request again (a storefront re-sent it)
    number = request.order_number.strip().removeprefix("#")
    # A storefront's own return (a signed webhook) names its order by subject, and the storefront
    # already checked who asked; any other request proves ownership by the order's email.
    from_storefront = request.channel == event.source and request.order_subject is not None
    order = (
        orders_api.purchase(conn, subject=request.order_subject)
        if from_storefront
        else orders_api.purchase(conn, number)
    )
    row: dict[str, Any] = {
        "rma": request.rma,
        "order_number": number,
        "email": request.customer_email,
        "channel": request.channel,
        "reason_text": request.reason,
        "lines": [],
        "refund_minor": 0,
        "shipping_refund_minor": 0,
        # the store's, until the order is the asker's: a refusal must not tell whether it exists
        "currency": ctx.policy.store.currency,
        "settlement": "refund",
        "returnless": False,
        "approved": False,
        "hold_reasons": [],
        "requested_at": asked,
        "updated_at": now,
    }
    if order is None or not (
        from_storefront or order.belongs_to(email=request.customer_email, customer_id=request.customer_id)
    ):
        # Nothing about the order is said or sent: a stranger learns nothing from trying numbers.
        conn.execute(insert(returns).values(**row, state=ReturnState.REFUSED.value))
        return Decision(action="return.refused", evidence={"refused": "not_verified", "order": number})
    number = order.number
    row.update(
        order_number=number,
        order_subject=order.subject,
        customer=order.customer,
        address_key=order.address_key,
        currency=order.currency,
    )
    if order.email:
        row["email"] = order.email
    if order.status not in ("shipped", "delivered"):
        conn.execute(insert(returns).values(**row, state=ReturnState.REFUSED.value))
        why = "cancelled" if order.status == "cancelled" else "not_shipped"
        return Decision(
            action="return.refused",
            evidence={"refused": why, "order": number, "order_status": order.status},
            outbox=mail(order, "return.refused", request.rma, why=why),
        )

    reading = _classifier(ctx).classify(request.reason)
    earlier = returned_units(conn, order.subject)
    goods_paid = order.total_minor - (order.shipping_paid_minor or 0)
    bought, paid, tags = _by_sku(order.lines, rules.line_paid(order.lines, goods_paid))
    line_skus = _sku_of_line_items(order.lines)
    wanted = _wanted(request, bought, earlier, line_skus)
    exchange = {_line_sku(line, line_skus): line.exchange_sku for line in request.lines if line.exchange_sku}
    if not wanted:
        conn.execute(insert(returns).values(**row, state=ReturnState.REFUSED.value))
        return Decision(
            action="return.refused",
            evidence={"refused": "already_returned", "order": number, "returned": earlier},
            outbox=mail(order, "return.refused", request.rma, why="already_returned"),
        )

    patterns: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    final: list[str] = []
    for sku, quantity in wanted.items():
        if sku not in bought:
            patterns.append({"pattern": "item_not_in_order", "sku": sku, "quantity": quantity})
            lines.append({"sku": sku, "quantity": quantity, "accepted": 0, "paid_minor": 0, "refund_minor": 0})
            continue
        left = bought[sku] - earlier.get(sku, 0)
        accepted = min(quantity, left)
        if quantity > left:
            patterns.append(
                {"pattern": "more_than_bought", "sku": sku, "asked": quantity, "bought": bought[sku], "left": left}
            )
        refund = rules.refund_for_units(paid[sku], bought[sku], earlier.get(sku, 0), accepted) if accepted else 0
        line: dict[str, Any] = {
            "sku": sku,
            "quantity": quantity,
            "accepted": accepted,
            "paid_minor": refund,
            # an exchange sends another SKU for these units instead of their money
            "refund_minor": 0 if sku in exchange else refund,
        }
        if sku in exchange:
            line["exchange_sku"] = exchange[sku]
        lines.append(line)
        if rules.final_sale(sku, tags[sku], patterns=policy.final_sale_skus, tags=policy.final_sale_tags):
            final.append(sku)

    whole_order = not earlier and all(wanted.get(sku, 0) >= units for sku, units in bought.items())
    shipping_refund = (
        order.shipping_paid_minor or 0 if whole_order and reading.category in policy.refund_shipping_reasons else 0
    )
    goods_refund = sum(line["refund_minor"] for line in lines)
    already = refunded_so_far(conn, order.subject)
    left_to_refund = max(0, order.total_minor - already)
    if goods_refund + shipping_refund > left_to_refund:
        patterns.append(
            {
                "pattern": "refund_above_paid",
                "asked_minor": goods_refund + shipping_refund,
                "paid_minor": order.total_minor,
                "refunded_minor": already,
            }
        )
        shipping_refund = min(shipping_refund, left_to_refund)
        goods_refund = left_to_refund - shipping_refund
        _cap_lines(lines, goods_refund)
    refund_total = goods_refund + shipping_refund

    history = _history(conn, order, asked, policy)
    if history["serial_returner"]:
        patterns.append({"pattern": "serial_returner", **history["customer"]})
    if history["shared_address"]:
        patterns.append({"pattern": "shared_address", **history["address"]})

    win = rules.window(
        delivered_at=order.delivered_at,
        shipped_at=order.shipped_at,
        placed_at=order.placed_at,
        days=policy.window_days,
        margin_days=policy.delivery_margin_days,
    )
    late = win.late(asked)
    limit = ctx.policy.money(policy.auto_refund_max)
    returnless_limit = ctx.policy.money(policy.returnless_max)
    in_store_currency = _in_store_currency(refund_total, order)
    reasons: list[ReturnReason] = []
    if late or final:
        reasons.append(ReturnReason.OUTSIDE_POLICY)
    if rules.asks_for_goodwill(request.reason):
        reasons.append(ReturnReason.GOODWILL_REQUEST)
    if patterns:
        reasons.append(ReturnReason.SUSPICIOUS_RETURN_PATTERN)
    if in_store_currency is None or in_store_currency > limit.minor:
        reasons.append(ReturnReason.REFUND_OVER_THRESHOLD)

    evidence: dict[str, Any] = {
        "order": number,
        "order_subject": order.subject,
        "lines": lines,
        "refund_minor": refund_total,
        "shipping_refund_minor": shipping_refund,
        "currency": order.currency,
        "auto_refund_max_minor": limit.minor,
        "returnless_max_minor": returnless_limit.minor,
        "store_currency_refund_minor": in_store_currency,
        "no_exchange_rate": in_store_currency is None,
        "refunded_before_minor": already,
        "reason": {"category": reading.category, "confidence": round(reading.confidence, 3), "text": request.reason},
        "window": {
            "starts": win.starts.isoformat(),
            "ends": win.ends.isoformat(),
            "from": "delivery" if win.from_delivery else "shipping",
            "days": win.days,
            "asked": asked.isoformat(),
            "days_after": win.days_after(asked),
            "late": late,
        },
        "final_sale": final,
        "patterns": patterns,
        "history": history,
        "channel": request.channel,
    }
    row.update(
        lines=lines,
        refund_minor=refund_total,
        shipping_refund_minor=shipping_refund,
        reason_category=reading.category,
        reason_confidence=reading.confidence,
        hold_reasons=[reason.value for reason in reasons],
    )
    if reasons:
        conn.execute(insert(returns).values(**row, state=ReturnState.HELD.value))
        return Decision(
            action="return.hold",
            reasons=tuple(reasons),
            evidence=evidence,
            handoff=HandoffRequest(
                role="finance",
                suggestion=_suggestion(reasons, patterns, late, final),
                priority=1 if ReturnReason.SUSPICIOUS_RETURN_PATTERN in reasons else 2,
                amount=Money(refund_total, order.currency),
            ),
            outbox=mail(order, "return.reviewing", request.rma),
        )
    if in_store_currency is not None and 0 < in_store_currency < returnless_limit.minor:
        conn.execute(
            insert(returns).values(**{**row, "returnless": True}, state=ReturnState.REFUNDED.value, refunded_at=asked)
        )
        evidence["returnless"] = True
        return Decision(
            action="return.refund_returnless",
            evidence=evidence,
            task="returns.refund",
            outbox=refund_messages(conn, order, request.rma, refund_total, "refund", now, lines=lines, returnless=True),
            follow_ups=exchange_order(order, request.rma, lines, asked),
        )
    conn.execute(insert(returns).values(**row, state=ReturnState.AUTHORIZED.value))
    return Decision(
        action="return.authorize",
        evidence=evidence,
        task="returns.authorize",
        outbox=authorize_messages(order, request.rma, lines, refund_total, policy, asked),
    )


def _by_sku(
    order_lines: Sequence[Mapping[str, Any]], paid: Sequence[int]
) -> tuple[dict[str, int], dict[str, int], dict[str, list[str]]]:
    """Units bought, money paid and tags of each SKU of the order (a SKU on two lines counts once)."""
    bought: dict[str, int] = {}
    paid_by_sku: dict[str, int] = {}
    tags: dict[str, list[str]] = {}
    for line, line_paid in zip(order_lines, paid, strict=True):
        sku = str(line["sku"])
        bought[sku] = bought.get(sku, 0) + int(line["quantity"])
        paid_by_sku[sku] = paid_by_sku.get(sku, 0) + line_paid
        tags.setdefault(sku, []).extend(rules.line_tags(line))
    return bought, paid_by_sku, tags


def _line_sku(line: ReturnLine, skus: Mapping[str, str]) -> str:
    return line.sku or skus.get(str(line.line_item_id)) or f"line-item:{line.line_item_id}"


def _sku_of_line_items(order_lines: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The SKU of each order line the storefront named by its own id."""
    return {str(line["line_item_id"]): str(line["sku"]) for line in order_lines if line.get("line_item_id")}


def _wanted(
    request: ReturnRequested, bought: Mapping[str, int], earlier: Mapping[str, int], skus: Mapping[str, str]
) -> dict[str, int]:
    """What the customer sends back, by SKU: the lines named, or every unit not yet returned. A line
    named by an id the order does not have keeps that id as its SKU (an item not in the order)."""
    wanted: dict[str, int] = {}
    if request.lines:
        for line in request.lines:
            wanted[_line_sku(line, skus)] = wanted.get(_line_sku(line, skus), 0) + line.quantity
        return wanted
    return {sku: units - earlier.get(sku, 0) for sku, units in bought.items() if units > earlier.get(sku, 0)}


def _cap_lines(lines: list[dict[str, Any]], total: int) -> None:
    """Lower the lines' refunds, last line first, until they add up to at most ``total``."""
    excess = sum(line["refund_minor"] for line in lines) - total
    for line in reversed(lines):
        if excess <= 0:
            break
        cut = min(excess, line["refund_minor"])
        line["refund_minor"] -= cut
        excess -= cut


def _in_store_currency(amount: int, order: orders_api.PurchaseView) -> int | None:
    """``amount`` of the order's currency in the store's, at the order's own rate (None: no rate known)."""
    if order.store_total_minor is None:
        return None
    if order.total_minor == 0:
        return amount
    return -(-amount * order.store_total_minor // order.total_minor)


def _history(
    conn: Connection, order: orders_api.PurchaseView, asked: datetime, policy: ReturnsPolicy
) -> dict[str, Any]:
    """The customer's return rate and the accounts returning to the order's address."""
    returned = set(
        conn.execute(
            select(returns.c.order_subject).where(
                returns.c.customer == order.customer, returns.c.state.in_(HISTORY_STATES)
            )
        ).scalars()
    )
    returned.add(order.subject)
    placed = max(orders_api.order_count(conn, order.customer), len(returned))
    customer = {"orders": placed, "orders_with_returns": len(returned), "rate": round(len(returned) / placed, 3)}
    serial = rules.serial_returner(
        len(returned), placed, rate=policy.serial_returner_rate, min_orders=policy.serial_returner_min_orders
    )
    shared = False
    address: dict[str, Any] = {}
    if order.address_key:
        accounts = set(
            conn.execute(
                select(returns.c.customer).where(
                    returns.c.address_key == order.address_key,
                    returns.c.requested_at >= asked - timedelta(days=policy.shared_address_days),
                    returns.c.state.in_(HISTORY_STATES),
                )
            ).scalars()
        )
        accounts.add(order.customer)
        address = {"accounts": len(accounts), "days": policy.shared_address_days}
        shared = len(accounts) >= policy.shared_address_accounts
    return {
        "customer": customer,
        "serial_returner": serial,
        "address": address,
        "shared_address": shared,
        "limits": {
            "serial_returner_rate": policy.serial_returner_rate,
            "serial_returner_min_orders": policy.serial_returner_min_orders,
            "shared_address_accounts": policy.shared_address_accounts,
        },
    }


def _suggestion(
    reasons: Sequence[ReturnReason], patterns: Sequence[Mapping[str, Any]], late: bool, final: list[str]
) -> str:
    if ReturnReason.SUSPICIOUS_RETURN_PATTERN in reasons:
        named = ", ".join(sorted({str(p["pattern"]).replace("_", " ") for p in patterns}))
        return f"Check before refunding ({named}): reject with a reason, or approve."
    if ReturnReason.OUTSIDE_POLICY in reasons:
        why = "asked after the return window" if late else f"final sale ({', '.join(final)})"
        return f"Outside the policy ({why}): approve as goodwill, offer store credit (modify), or reject."
    if ReturnReason.GOODWILL_REQUEST in reasons:
        return "The customer asks for an exception: approve, modify the amount, or reject with a reason."
    return "Approve the refund, or modify the amount."


def mail(order: orders_api.PurchaseView, template: str, rma: str, **facts: Any) -> tuple[OutboxMessage, ...]:
    """An email to the order's customer (none when the order has no address)."""
    if not order.email:
        return ()
    return (
        OutboxMessage(
            "email",
            template,
            {"to": order.email, "order": order.number, "rma": rma, **facts},
            f"return:{rma}:email:{template}",
            subject=f"return:{rma}",
        ),
    )


def authorize_messages(
    order: orders_api.PurchaseView,
    rma: str,
    lines: Sequence[Mapping[str, Any]],
    refund_minor: int,
    policy: ReturnsPolicy,
    asked: datetime,
) -> tuple[OutboxMessage, ...]:
    """A prepaid return label from the customer's address and the mail that tells them what happens next."""
    tracking = _tracking(rma)
    units = sum(int(line["accepted"]) for line in lines)
    grams = sum(int(line.get("grams") or 500) * int(line["quantity"]) for line in order.lines if line.get("sku"))
    label = {
        "order": rma,
        "subject": f"return:{rma}",
        "warehouse": "customer",
        "carrier": policy.return_carrier,
        "service": "return",
        "tracking_number": tracking,
        "grams": grams,
        "lines": [{"sku": line["sku"], "quantity": line["accepted"]} for line in lines if line["accepted"]],
        "ship_to": {"name": f"Returns {rma}", "line1": return_location(order, policy) or "Returns"},
        "ship_from": order.shipping_address,
        "return": True,
    }
    send_by = asked + timedelta(days=14)
    return (
        OutboxMessage("carrier", "label.create", label, f"return:{rma}:label", subject=f"return:{rma}"),
        *mail(
            order,
            "return.authorized",
            rma,
            tracking_number=tracking,
            units=units,
            send_by=f"{send_by:%d %B %Y}",
            refund_text=Money(refund_minor, order.currency).format(),
            refund_minor=refund_minor,
            exchange=[f"{line['exchange_sku']} × {line['accepted']}" for line in lines if line.get("exchange_sku")],
        ),
    )


def refund_messages(
    conn: Connection,
    order: orders_api.PurchaseView,
    rma: str,
    amount_minor: int,
    settlement: str,
    at: datetime,
    *,
    lines: Sequence[Mapping[str, Any]] = (),
    returnless: bool = False,
) -> tuple[OutboxMessage, ...]:
    """Record the refund on the order and send it: money back at the storefront, or store credit
    (nothing to pay when every unit is exchanged); and the mail, naming any replacement on its way."""
    money = Money(amount_minor, order.currency).format()
    said = mail(
        order,
        "return.refunded",
        rma,
        refund_text=money if amount_minor else None,
        store_credit=settlement == "store_credit",
        returnless=returnless,
        exchange=[f"{line['exchange_sku']} × {line['accepted']}" for line in lines if line.get("exchange_sku")],
    )
    if not amount_minor:
        return said
    conn.execute(
        insert(refunds).values(
            order_subject=order.subject,
            amount_minor=amount_minor,
            currency=order.currency,
            origin="storeops",
            reference=f"return:{rma}",
            at=at,
        )
    )
    action = "store_credit.issue" if settlement == "store_credit" else "refund.create"
    payment = OutboxMessage(
        "payments",
        action,
        {
            "source": order.source,
            "order": order.number,
            "subject": order.subject,
            "amount_minor": amount_minor,
            "currency": order.currency,
            "reason": f"return {rma}",
            "customer": order.customer,
        },
        f"return:{rma}:{action}",
        subject=f"return:{rma}",
    )
    return (payment, *said)


def exchange_order(
    order: orders_api.PurchaseView, rma: str, lines: Sequence[Mapping[str, Any]], at: datetime
) -> tuple[NewEvent, ...]:
    """The replacement of an exchange, as a new order of the customer's for the orders desk to
    reserve, label and ship like any other (paid already: its lines cost nothing)."""
    wanted = [
        {"sku": str(line["exchange_sku"]), "quantity": int(line["accepted"]), "unit_price_minor": 0}
        for line in lines
        if line.get("exchange_sku") and line.get("accepted")
    ]
    if not wanted:
        return ()
    number = f"{order.number}-{rma}"
    customer_id = order.customer.split(":", 2)[-1]
    return (
        NewEvent(
            source=EXCHANGE_SOURCE,
            external_id=f"exchange:{rma}",
            kind="order.created",
            subject=f"order:{EXCHANGE_SOURCE}:{number}",
            occurred_at=at,
            payload={
                "order_number": number,
                "customer": {"id": customer_id, "email": order.email},
                "currency": order.currency,
                "total_minor": 0,
                "lines": wanted,
                "shipping_address": order.shipping_address,
                "payment_status": "paid",
                "channel": "exchange",
            },
        ),
    )


def return_received(event: Event, ctx: HandlerContext) -> Decision | None:
    """The parcel arrived and was inspected: restock what can be sold, refund, or hand it to a person."""
    received = event.parsed(ReturnReceived)
    conn, now = ctx.conn, ctx.now
    policy = ctx.settings(ReturnsPolicy)
    row = _find(conn, received.rma)
    evidence: dict[str, Any] = {"rma": received.rma, "condition": received.condition, "note": received.note}
    if row is None or row["state"] in (ReturnState.REFUSED.value, ReturnState.REJECTED.value):
        evidence["state"] = row["state"] if row is not None else None
        return Decision(
            action="return.unexpected_parcel",
            reasons=(ReturnReason.OUTSIDE_POLICY,),
            evidence=evidence,
            handoff=HandoffRequest(
                role="finance",
                suggestion="A parcel came back that no open return expects: find its order, then decide.",
            ),
        )
    if row["state"] in (ReturnState.RECEIVED.value, ReturnState.REFUNDED.value) and row["received_at"] is not None:
        return None  # inspected before: the same scan again
    order = orders_api.purchase(conn, subject=row["order_subject"])
    assert order is not None  # a return that was not refused names a stored order
    sellable = received.condition in policy.restock_conditions
    location = return_location(order, policy) or _stock_location(conn, row["lines"])
    restocked = []
    if sellable:
        for line in row["lines"]:
            if line["accepted"]:
                inventory_api.record_return(
                    conn,
                    sku=line["sku"],
                    location=location,
                    quantity=int(line["accepted"]),
                    reference=f"return:{received.rma}",
                    at=event.occurred_at,
                )
                restocked.append({"sku": line["sku"], "quantity": line["accepted"], "location": location})
    evidence["restocked"] = restocked
    patterns: list[dict[str, Any]] = []
    if received.condition == "empty":
        patterns.append({"pattern": "empty_box"})
    elif received.condition == "worn":
        days = (
            round((row["requested_at"] - order.delivered_at).total_seconds() / 86400, 1)
            if order.delivered_at is not None
            else None
        )
        wardrobing = days is not None and days <= policy.wardrobing_days
        patterns.append(
            {"pattern": "wardrobing" if wardrobing else "worn_item", "days_after_delivery": days}
            | ({"wardrobing_days": policy.wardrobing_days} if wardrobing else {})
        )
    reasons: list[ReturnReason] = []
    if patterns:
        reasons.append(ReturnReason.SUSPICIOUS_RETURN_PATTERN)
    if received.condition == "damaged" and row["reason_category"] not in SELLER_FAULT:
        reasons.append(ReturnReason.OUTSIDE_POLICY)
        evidence["damaged_by"] = "customer (the reason given is not a fault of the store)"
    evidence["patterns"] = patterns
    values: dict[str, Any] = {
        "condition": received.condition,
        "note": received.note,
        "received_at": event.occurred_at,
        "updated_at": now,
    }
    if row["state"] == ReturnState.HELD.value and not reasons:
        # A person is already deciding: the inspection is on record, their decision carries it out.
        conn.execute(update(returns).where(returns.c.id == row["id"]).values(**values))
        return Decision(action="return.inspected", evidence=evidence)
    if reasons:
        # Even when a person approved the request (a large refund, a late one), they had not seen
        # what is in the box; held already, the finding joins the open handoff (its reasons added,
        # this evidence on top).
        conn.execute(
            update(returns)
            .where(returns.c.id == row["id"])
            .values(**values, state=ReturnState.RECEIVED.value, hold_reasons=[r.value for r in reasons])
        )
        return Decision(
            action="return.hold",
            reasons=tuple(reasons),
            evidence=evidence,
            handoff=HandoffRequest(
                role="finance",
                suggestion=f"The parcel came back {received.condition}: refund anyway (approve), part (modify), "
                "or reject with a reason.",
                priority=1,
                amount=Money(int(row["refund_minor"]), row["currency"]),
            ),
        )
    conn.execute(
        update(returns)
        .where(returns.c.id == row["id"])
        .values(**values, state=ReturnState.REFUNDED.value, refunded_at=event.occurred_at)
    )
    evidence["refund_minor"] = int(row["refund_minor"])
    evidence["currency"] = row["currency"]
    return Decision(
        action="return.refund",
        reasons=tuple(reasons),
        evidence=evidence,
        task="returns.refund",
        outbox=refund_messages(
            conn, order, received.rma, int(row["refund_minor"]), row["settlement"], now, lines=row["lines"]
        ),
        follow_ups=exchange_order(order, received.rma, row["lines"], event.occurred_at),
    )


def return_location(order: orders_api.PurchaseView, policy: ReturnsPolicy) -> str:
    """Where a return goes back to: ``[returns] return_location``, else the warehouse the order left
    from (empty when neither is known: then where the SKU is stocked)."""
    return policy.return_location or (order.warehouses[0] if order.warehouses else "")


def _stock_location(conn: Connection, lines: Sequence[Mapping[str, Any]]) -> str:
    """Where returned units go when the policy names no place: where the first SKU is stocked."""
    skus = [str(line["sku"]) for line in lines if line.get("accepted")]
    found = inventory_api.levels(conn, skus[:1])
    for level in found.get(skus[0], []) if skus else []:
        return level.location
    return "RETURNS"


def refund_created(event: Event, ctx: HandlerContext) -> Decision | None:
    """A refund made at the storefront: it counts against what later returns of the order may refund.
    storeops' own refunds come back marked (``storeops:``) and are already counted."""
    made = event.parsed(orders_api.RefundCreated)
    if "storeops:" in (made.note or ""):
        return None
    order = orders_api.purchase(ctx.conn, subject=event.subject) or orders_api.purchase(ctx.conn, made.order_number)
    if order is None:
        return None
    reference = f"{event.source}:{event.external_id or event.id}"
    if ctx.conn.execute(select(refunds.c.id).where(refunds.c.reference == reference)).first() is not None:
        return None
    ctx.conn.execute(
        insert(refunds).values(
            order_subject=order.subject,
            amount_minor=made.amount_minor,
            currency=made.currency,
            origin="storefront",
            reference=reference,
            at=event.occurred_at,
        )
    )
    return Decision(
        action="refund.recorded",
        evidence={"order": order.number, "amount_minor": made.amount_minor, "currency": made.currency},
        subject=order.subject,
    )
