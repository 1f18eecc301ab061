"""The orders desk: validate, score risk, route and reserve, label, track — or hand to a person.

Every handler is safe to run twice for the same event (state is keyed by the order's subject,
stock moves by conditional updates) and writes only through the handler's transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, update

from storeops.desks.inventory.api import Cause, record_sale, release_reference
from storeops.desks.orders import fulfilment
from storeops.desks.orders.events import (
    CustomerUpdated,
    OrderCancelled,
    OrderCancelRequested,
    OrderChangeRequested,
    OrderPaid,
    OrderPlaced,
    ShipmentScanned,
)
from storeops.desks.orders.policy import OrdersPolicy
from storeops.desks.orders.reasons import OrderReason
from storeops.desks.orders.resolutions import HELD_REASONS
from storeops.desks.orders.risk import OrderFacts, RiskModel, RuleRiskModel, compute_features, order_history
from storeops.desks.orders.rules import (
    FAILED_PAYMENT,
    Limits,
    OrderCase,
    assess,
    blocking_problems,
    line_signature,
    problem_reasons,
    suggestion,
    to_store_currency,
)
from storeops.desks.orders.tables import (
    INSERT_ORDER,
    MARK_FULFILLING,
    ORDER_BY_SUBJECT,
    OrderStatus,
    orders,
    record_customer_statement,
    upsert_customer_statement,
)
from storeops.desks.orders.validate import (
    address_key,
    check_address,
    check_totals,
    contact_warnings,
    same_destination,
)
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.events import Event
from storeops.engine.inbox import supersede_handoffs
from storeops.engine.scheduler import cancel, schedule
from storeops.engine.writebehind import write_later
from storeops.money import Money, currency_exponent

COLD_START = RuleRiskModel()
MAILING_STOREFRONTS = frozenset({"shopify", "woocommerce"})
"""Storefronts that send their own shipping confirmation when storeops fulfils an order there
(Shopify's ``notifyCustomer``, WooCommerce's completed-order mail); any other order's customer
gets storeops' own ``order.shipped`` mail."""
"""What scores orders when the desk was given no model (its models are ``risk.load_models``)."""


def _order(conn: Connection, subject: str) -> Any:
    row = conn.execute(ORDER_BY_SUBJECT, {"subject": subject}).first()
    return row._mapping if row is not None else None


def lock_keys(event: Event) -> list[str]:
    """An order updates its customer's record and its SKUs' stock; a customer update, the record.
    An order also reads how many other customers share its device, IP address and destination
    (the risk history), so those are keys too: an order is never decided before an earlier one
    from the same device, IP or address that another key held back."""
    if event.kind == "customer.updated":
        return [f"customer:{event.source}:{(event.payload.get('customer') or {}).get('id')}"]
    if event.kind not in ("order.created", "order.updated"):
        return []
    payload = event.payload
    customer = payload.get("customer") or {}
    email = customer.get("email")
    # The e-mail too: a support message that names an order reads it by its writer's address.
    by_email = [f"email:{email.strip().lower()}"] if isinstance(email, str) and email.strip() else []
    shared = [
        f"{name}:{value}" for name in ("ip", "device_id") if isinstance(value := payload.get(name), str) and value
    ]
    destination = payload.get("shipping_address")
    if isinstance(destination, dict) and (where := address_key(destination)):
        shared.append(f"address:{where}")
    return (
        [f"customer:{event.source}:{customer.get('id')}"]
        + by_email
        + shared
        + [f"stock:{line.get('sku')}" for line in payload.get("lines") or [] if isinstance(line, dict)]
    )


def order_created(event: Event, ctx: HandlerContext) -> Decision | None:
    """A new order: validate, score, plan and reserve, then fulfil or hold for a person. An order
    the storefront already fulfilled or cancelled is recorded as it is (it counts in the
    customer's history), never fulfilled again."""
    placed = event.parsed(OrderPlaced)
    policy = ctx.settings(OrdersPolicy)
    store_currency = ctx.policy.store.currency
    conn, now = ctx.conn, ctx.now
    customer = f"customer:{event.source}:{placed.customer.id}"
    placed_at = event.occurred_at

    shipping_check = check_address(
        placed.shipping_address.model_dump() if placed.shipping_address else None, "shipping"
    )
    billing_raw = placed.billing_address or placed.shipping_address
    billing = check_address(billing_raw.model_dump() if billing_raw else None, "billing")
    mismatch = bool(shipping_check.problems) or (
        bool(billing.address) and not same_destination(shipping_check.address, billing.address)
    )
    lines = [line.model_dump() for line in placed.lines]
    store_total = to_store_currency(placed.total_minor, placed.currency, store_currency, policy.exchange_rates)
    threshold = ctx.policy.money(policy.high_value_threshold)

    facts = OrderFacts(
        subject=event.subject,
        customer=customer,
        placed_at=placed_at,
        signed_up_at=placed.customer.created_at,
        store_total_minor=store_total if store_total is not None else placed.total_minor,
        lines=lines,
        shipping_country=shipping_check.address.get("country"),
        billing_country=billing.address.get("country"),
        ip_country=placed.ip_country,
        ip=placed.ip,
        device=placed.device_id,
        address_key=address_key(shipping_check.address),
        failed_payments=placed.failed_payments,
    )
    history = order_history(
        conn,
        facts,
        signature=line_signature(lines),
        mismatch_since=placed_at - timedelta(days=policy.address_mismatch_window_days),
        duplicate_since=placed_at - timedelta(minutes=policy.duplicate_window_minutes)
        if policy.duplicate_window_minutes
        else None,
    )
    if history.known:
        return None  # already decided (a storefront re-sent the order under another webhook id)
    mismatch_count = history.mismatches + (1 if mismatch else 0)
    duplicate = history.duplicate_of
    features = compute_features(facts, history, store_exponent=currency_exponent(store_currency))
    risk_model: RiskModel = ctx.models or COLD_START
    score = risk_model.score(features)
    row = dict(
        subject=event.subject,
        source=event.source,
        number=placed.order_number,
        customer=customer,
        currency=placed.currency,
        total_minor=placed.total_minor,
        store_total_minor=store_total,
        shipping_paid_minor=_shipping_paid(placed),
        lines=lines,
        line_signature=line_signature(lines),
        shipping_address=shipping_check.address,
        billing_address=billing.address,
        address_key=facts.address_key,
        address_mismatch=1 if mismatch else 0,
        email=placed.customer.email,
        ip=placed.ip,
        device=placed.device_id,
        payment_status=placed.payment_status,
        risk_score=score,
        risk_model=risk_model.version,
        features=features,
        placed_at=placed_at,
        updated_at=now,
    )
    _upsert_customer(conn, customer, placed, now)
    if placed.storefront_status in ("fulfilled", "cancelled"):
        return _record_as_is(event, ctx, placed, row, policy)

    problems = blocking_problems(shipping_check.problems, placed.payment_status)
    totals = check_totals(
        lines,
        placed.total_minor,
        **placed.model_dump(
            include={"shipping_minor", "shipping_discount_minor", "tax_minor", "discount_minor", "fees_minor"}
        ),
    )
    problems += totals.problems if totals else []
    reference = f"order:{event.subject}"
    order_plan: fulfilment.Plan | None = None
    # An open order imported with the store: the storefront's stock figures already left its units
    # out (committed), so planning and reserving add them back instead of taking them twice.
    committed = placed.backfill
    if not problems:
        planned = fulfilment.plan(conn, lines, shipping_check.address.get("country"), policy, committed=committed)
        if isinstance(planned, list):
            problems += planned
        else:
            problems += fulfilment.reserve_plan(conn, planned, reference, now, committed=committed)
            order_plan = None if problems else planned

    reasons = assess(
        OrderCase(
            store_total_minor=store_total,
            risk_score=score,
            mismatch=mismatch,
            earlier_mismatches=history.mismatches,
            duplicate_of=duplicate,
            problems=problems,
        ),
        Limits(
            threshold_minor=threshold.minor,
            risk_threshold=policy.risk_threshold,
            mismatch_repeat=policy.address_mismatch_repeat,
        ),
    )

    evidence: dict[str, Any] = {
        "total_minor": placed.total_minor,
        "currency": placed.currency,
        "store_total_minor": store_total,
        "threshold_minor": threshold.minor,
        "exchange_rate": policy.exchange_rates.get(placed.currency) if placed.currency != store_currency else None,
        "risk": {
            "score": score,
            "threshold": policy.risk_threshold,
            "model": risk_model.version,
            "factors": risk_model.explain(features),
        },
        "address": {
            "mismatch": mismatch,
            "mismatches_in_window": mismatch_count,
            "repeat": policy.address_mismatch_repeat,
            "window_days": policy.address_mismatch_window_days,
            "problems": shipping_check.problems + billing.problems,
        },
        "fixes": shipping_check.fixes + billing.fixes,
        "warnings": contact_warnings(placed.customer.email, shipping_check.address.get("phone")),
        "problems": problems,
        "duplicate_of": duplicate,
        "plan": order_plan.as_json() if order_plan else None,
        "totals": totals.evidence if totals else None,
    }
    if placed.backfill:
        evidence["imported"] = {"storefront_status": placed.storefront_status, "units_committed": committed}
    shipping = (
        _shipping(
            event.subject,
            placed.order_number,
            event.source,
            order_plan,
            shipping_check.address,
            email=placed.customer.email,
        )
        if order_plan is not None and not reasons
        else None
    )
    conn.execute(
        INSERT_ORDER,
        dict(
            row,
            status=(OrderStatus.HELD if reasons else OrderStatus.FULFILLING).value,
            hold_reasons=[r.value for r in reasons],
            allocation=order_plan.as_json() if order_plan else None,
            carrier=shipping.carrier if shipping else None,
            service=shipping.service if shipping else None,
            tracking_number=shipping.tracking if shipping else None,
        ),
    )
    actor = f"automation:orders@{risk_model.version}"
    if reasons:
        return Decision(
            action="order.hold",
            reasons=tuple(reasons),
            evidence=evidence,
            actor=actor,
            outbox=() if placed.backfill else _hold_messages(event.subject, placed.order_number, event.source, reasons),
            handoff=HandoffRequest(
                role="ops",
                suggestion=suggestion(reasons, evidence),
                priority=1 if OrderReason.FRAUD_SIGNAL in reasons else 2,
                amount=Money(placed.total_minor, placed.currency),
            ),
        )
    assert shipping is not None  # no reasons means the plan was made and reserved
    # An imported open order leaves for the warehouse now, not when it was placed (maybe weeks ago).
    _track(conn, event.subject, now if placed.backfill else placed_at, policy)
    return Decision(
        action="order.fulfil", evidence=evidence, task="order.fulfil", outbox=shipping.messages, actor=actor
    )


def _shipping_paid(placed: OrderPlaced) -> int | None:
    """Shipping the customer paid, after its discount (None when the storefront did not say)."""
    if placed.shipping_minor is None:
        return None
    return max(0, placed.shipping_minor - (placed.shipping_discount_minor or 0))


def _record_as_is(
    event: Event, ctx: HandlerContext, placed: OrderPlaced, row: dict[str, Any], policy: OrdersPolicy
) -> Decision:
    """An order the storefront already fulfilled or cancelled: kept for the customer's history, never
    planned, labelled or messaged. Imported (``backfill``), the storefront's stock figures already
    reflect it; arriving live (a point-of-sale sale), its units leave the ledger as a sale."""
    fulfilled = placed.storefront_status == "fulfilled"
    status = OrderStatus.SHIPPED if fulfilled else OrderStatus.CANCELLED
    ctx.conn.execute(INSERT_ORDER, dict(row, status=status.value, hold_reasons=[]))
    evidence: dict[str, Any] = {
        "storefront_status": placed.storefront_status,
        "total_minor": placed.total_minor,
        "currency": placed.currency,
    }
    if fulfilled and not placed.backfill:
        planned = fulfilment.plan(ctx.conn, row["lines"], (row["shipping_address"] or {}).get("country"), policy)
        if isinstance(planned, fulfilment.Plan):
            for shipment in planned.shipments:
                for line in shipment.lines:
                    record_sale(
                        ctx.conn,
                        sku=str(line["sku"]),
                        location=shipment.warehouse,
                        quantity=int(line["quantity"]),
                        reference=f"order:{event.subject}",
                        at=event.occurred_at,
                    )
            evidence["sold_from"] = [shipment.warehouse for shipment in planned.shipments]
        else:
            evidence["stock_not_moved"] = planned
    action = "order.import" if placed.backfill else f"order.{placed.storefront_status}_at_storefront"
    return Decision(action=action, evidence=evidence)


def _upsert_customer(conn: Connection, key: str, placed: OrderPlaced, now: datetime) -> None:
    """Count the order on its customer's record, at the end of the worker's batch: nothing in the
    order path reads the record back (a statement that does, writes it first: ``engine.writebehind``)."""
    write_later(
        conn,
        upsert_customer_statement(conn.dialect.name),
        {
            "key": key,
            "email": placed.customer.email,
            "tags": list(placed.customer.tags),
            "signed_up_at": placed.customer.created_at,
            "orders_count": 1,
            "lifetime_minor": placed.total_minor,
            "failed_payments": placed.failed_payments,
            "updated_at": now,
        },
    )


@dataclass(frozen=True)
class Shipping:
    """What fulfilling a reserved plan sends out and records on the order."""

    messages: tuple[OutboxMessage, ...]
    carrier: str
    service: str
    tracking: str


def _shipping(
    subject: str,
    number: str,
    source: str,
    order_plan: fulfilment.Plan,
    address: dict[str, Any],
    *,
    email: str | None = None,
    again: int | None = None,
) -> Shipping:
    """Label, warehouse request and storefront fulfilment for a reserved plan, and the shipping
    mail to ``email`` unless the storefront sends its own; ``again`` (the handoff that asked for
    it) sends it a second time with new tracking numbers and keys."""
    messages: list[OutboxMessage] = []
    numbers = []
    suffix = f":again:{again}" if again is not None else ""
    for index, shipment in enumerate(order_plan.shipments):
        tracking = fulfilment.tracking_number(f"{subject}{suffix}", shipment.carrier, index)
        numbers.append(tracking)
        parcel = {
            "order": number,
            "subject": subject,
            "warehouse": shipment.warehouse,
            "carrier": shipment.carrier,
            "service": shipment.service,
            "tracking_number": tracking,
            "grams": shipment.grams,
            "lines": shipment.lines,
            "ship_to": address,
        }
        messages.append(OutboxMessage("carrier", "label.create", parcel, f"{subject}:label:{index}{suffix}"))
        messages.append(OutboxMessage("warehouse", "fulfilment.request", parcel, f"{subject}:pick:{index}{suffix}"))
    first = order_plan.shipments[0]
    messages.append(
        OutboxMessage(
            "storefront",
            "fulfilment.create",
            {
                "source": source,
                "order": number,
                "subject": subject,
                "tracking_numbers": numbers,
                "carrier": first.carrier,
            },
            f"{subject}:fulfilment{suffix}",
        )
    )
    if email and source not in MAILING_STOREFRONTS:
        messages.append(
            OutboxMessage(
                "email",
                "order.shipped",
                {"to": email, "order": number, "tracking_numbers": numbers, "carrier": first.carrier},
                f"{subject}:email:order.shipped{suffix}",
                subject=subject,
            )
        )
    return Shipping(tuple(messages), first.carrier, first.service, ",".join(numbers))


def _hold_messages(subject: str, number: str, source: str, reasons: Sequence[enum.Enum]) -> tuple[OutboxMessage, ...]:
    """Tell the storefront a person is looking: hold the order's fulfilment there (so the store's
    own staff or apps do not ship it meanwhile) and tag it with the reasons, visible in its admin.
    Keyed by the reasons, so a second hold for the same reasons is the same message."""
    codes = [str(reason.value) for reason in reasons]
    order = {"source": source, "order": number, "subject": subject}
    return (
        OutboxMessage(
            "storefront", "fulfilment.hold", {**order, "reasons": codes}, f"{subject}:hold:{'+'.join(codes)}"
        ),
        OutboxMessage(
            "storefront",
            "order.tag",
            {**order, "tags": [f"storeops:{code}" for code in codes]},
            f"{subject}:tag:{'+'.join(codes)}",
        ),
    )


def _track(conn: Connection, subject: str, since: datetime, policy: OrdersPolicy) -> None:
    """Start (or restart) the silence timer of a shipped order."""
    schedule(
        conn,
        key=f"tracking:{subject}",
        kind="clock.tick",
        subject=subject,
        at=since + timedelta(days=policy.tracking_stale_days),
        payload={"desk": "orders", "check": "tracking"},
    )


def _fulfil(
    conn: Connection,
    subject: str,
    number: str,
    source: str,
    order_plan: fulfilment.Plan,
    address: dict[str, Any],
    now: datetime,
    since: datetime,
    policy: OrdersPolicy,
    email: str | None = None,
) -> tuple[OutboxMessage, ...]:
    """Fulfil an order already stored (after a person's approval): documents, order row, tracking."""
    shipping = _shipping(subject, number, source, order_plan, address, email=email)
    conn.execute(
        MARK_FULFILLING,
        {
            "b_subject": subject,
            "b_carrier": shipping.carrier,
            "b_service": shipping.service,
            "b_tracking": shipping.tracking,
            "b_allocation": order_plan.as_json(),
            "b_now": now,
        },
    )
    _track(conn, subject, since, policy)
    return shipping.messages


def handoff_resolved(event: Event, ctx: HandlerContext) -> Decision | None:
    """A person decided; carry it out as docs/resolutions.md says, once, and say what was done.

    - A held order: approve ships it; reject cancels it at the storefront, refunds the payment,
      emails the customer and releases its stock; modify corrects the address, the service or the
      lines, validates the order again, then ships it (or holds it again naming what is still wrong).
    - A shipping irregularity: reship, refund, or contact the carrier and look again later.

    The order's state decides: a resolution the order can no longer take (it shipped or was
    cancelled meanwhile) is refused with the reason, and nothing is done twice."""
    order = _order(ctx.conn, event.subject)
    resolution = str(event.payload["resolution"])
    reasons = {str(r) for r in event.payload.get("reasons", [])}
    changes = dict(event.payload.get("changes") or {})
    if order is None:
        return _refused(resolution, f"{event.subject} is not an order storeops knows")
    if OrderReason.SHIPPING_IRREGULARITY.value in reasons and not reasons & {r.value for r in HELD_REASONS}:
        return _resolve_irregularity(event, ctx, order, resolution, changes)
    number = order["number"]
    if OrderReason.CHANGE_REQUEST.value in reasons and order["status"] == OrderStatus.FULFILLING.value:
        return _change_with_the_warehouse(event, ctx, order, resolution, changes)
    if order["status"] != OrderStatus.HELD.value:
        return _refused(resolution, f"order #{number} is {order['status']}; nothing was done")
    policy = ctx.settings(OrdersPolicy)
    conn, now = ctx.conn, ctx.now
    reference = f"order:{event.subject}"
    if resolution == "reject":
        cancelled = _cancel(conn, order, now, reason="rejected by a person", refund=True, tell_customer=True)
        return replace(cancelled, evidence={**cancelled.evidence, "resolution": resolution})
    address = dict(order["shipping_address"] or {})
    lines = list(order["lines"])
    applied: list[str] = []
    if resolution == "modify":
        if "shipping_address" in changes:
            check = check_address({**address, **changes["shipping_address"]}, "shipping")
            blocking = blocking_problems(check.problems, None)
            if blocking:
                return _hold_again(conn, order, blocking, now)
            address = check.address
            applied.append(f"shipping address corrected to {_one_line(address)}")
        if changes.get("drop_lines"):
            dropped = set(changes["drop_lines"])
            lines = [line for line in lines if str(line["sku"]) not in dropped]
            release_reference(conn, reference, at=now)  # the old plan's reservation; re-planned below
            applied.append(f"lines dropped: {', '.join(sorted(dropped))}")
        conn.execute(
            update(orders)
            .where(orders.c.id == order["id"])
            .values(
                shipping_address=address,
                lines=lines,
                line_signature=line_signature(lines),
                allocation=None if changes.get("drop_lines") else order["allocation"],
                updated_at=now,
            )
        )
    allocation = None if changes.get("drop_lines") else order["allocation"]
    if allocation:
        order_plan = fulfilment.Plan([fulfilment.Shipment(**s) for s in allocation])
    else:
        planned = fulfilment.plan(conn, lines, address.get("country"), policy)
        problems = planned if isinstance(planned, list) else fulfilment.reserve_plan(conn, planned, reference, now)
        if problems:
            return _hold_again(conn, order, problems, now)
        assert not isinstance(planned, list)
        order_plan = planned
    if changes.get("service"):
        service = str(changes["service"])
        if not any(rate.service == service for rate in policy.rates):
            return _hold_again(conn, order, [f"unknown_service:{service}"], now)
        order_plan = fulfilment.Plan([replace(shipment, service=service) for shipment in order_plan.shipments])
        applied.append(f"service set to {service}")
    outbox = _fulfil(
        conn, event.subject, number, order["source"], order_plan, address, now, now, policy, email=order["email"]
    )
    warehouses = ", ".join(sorted({shipment.warehouse for shipment in order_plan.shipments}))
    effects = [
        *applied,
        f"order #{number} sent to {warehouses} for picking",
        f"{len(order_plan.shipments)} label{'s' if len(order_plan.shipments) > 1 else ''} made",
        "tracking added at the storefront",
    ]
    return Decision(
        action="order.fulfil",
        evidence={
            "resolution": resolution,
            "approved_by": event.payload.get("actor"),
            "changes": changes,
            "effects": effects,
            "refused": None,
        },
        task="order.fulfil",
        outbox=outbox,
    )


def _change_with_the_warehouse(
    event: Event, ctx: HandlerContext, order: Any, resolution: str, changes: dict[str, Any]
) -> Decision:
    """A customer's change to an order the warehouse already has: modify sends the corrected
    address to the warehouse and the storefront; approve records it as done by hand; reject tells
    the customer it cannot be done."""
    handoff_id = int(event.payload["handoff_id"])
    number = order["number"]
    if resolution == "reject":
        return Decision(
            action="order.change_declined",
            evidence={
                "resolution": resolution,
                "effects": ["customer emailed that the change cannot be made"],
                "refused": None,
            },
            outbox=(_customer_email(order, "order.change_declined", f"change:{handoff_id}"),),
        )
    if resolution == "approve" or not changes.get("shipping_address"):
        return Decision(
            action="order.change_done_by_hand",
            evidence={
                "resolution": resolution,
                "effects": [f"order #{number}: the change was made by hand"],
                "refused": None,
            },
        )
    check = check_address({**dict(order["shipping_address"] or {}), **changes["shipping_address"]}, "shipping")
    blocking = blocking_problems(check.problems, None)
    if blocking:
        return _refused(resolution, f"the corrected address is still not deliverable: {', '.join(blocking)}")
    ctx.conn.execute(
        update(orders).where(orders.c.id == order["id"]).values(shipping_address=check.address, updated_at=ctx.now)
    )
    payload = {"order": number, "source": order["source"], "ship_to": check.address}
    return Decision(
        action="order.address_changed",
        evidence={
            "resolution": resolution,
            "effects": [
                f"order #{number} now ships to {_one_line(check.address)}",
                "the warehouse and the storefront told",
                "customer emailed",
            ],
            "refused": None,
        },
        outbox=(
            OutboxMessage("warehouse", "fulfilment.update", payload, f"{event.subject}:change:{handoff_id}:warehouse"),
            OutboxMessage("storefront", "order.update", payload, f"{event.subject}:change:{handoff_id}:storefront"),
            _customer_email(order, "order.changed", f"change:{handoff_id}", ship_to=_one_line(check.address)),
        ),
    )


def _one_line(address: dict[str, Any]) -> str:
    return ", ".join(str(address[k]) for k in ("line1", "postal_code", "city", "country") if address.get(k))


def _refused(resolution: str, why: str) -> Decision:
    return Decision(
        action="order.resolution_refused",
        evidence={"resolution": resolution, "effects": [], "refused": why},
    )


def _resolve_irregularity(
    event: Event, ctx: HandlerContext, order: Any, resolution: str, changes: dict[str, Any]
) -> Decision:
    """A parcel in trouble: approve contacts the carrier (the suggestion), modify picks reship,
    refund or contact_carrier, reject closes the case (the tracking goes on as it was)."""
    conn, now, number = ctx.conn, ctx.now, order["number"]
    policy = ctx.settings(OrdersPolicy)
    action = "contact_carrier" if resolution == "approve" else str(changes.get("action") or "")
    handoff_id = int(event.payload["handoff_id"])
    if resolution == "reject":
        return Decision(
            action="shipment.irregularity_dismissed",
            evidence={"resolution": resolution, "effects": ["case closed; tracking goes on"], "refused": None},
            task="order.track",
        )
    money = Money(order["total_minor"], order["currency"])
    if action == "refund":
        outbox = (
            OutboxMessage(
                "payments",
                "refund.create",
                {
                    "source": order["source"],
                    "order": number,
                    "subject": event.subject,
                    "amount_minor": order["total_minor"],
                    "currency": order["currency"],
                    "reason": "parcel lost",
                },
                f"{event.subject}:irregularity:{handoff_id}:refund",
            ),
            _customer_email(order, "order.refunded", f"irregularity:{handoff_id}", refund_text=money.format()),
        )
        conn.execute(update(orders).where(orders.c.id == order["id"]).values(payment_status="refunded", updated_at=now))
        cancel(conn, f"tracking:{event.subject}")
        return Decision(
            action="shipment.refund",
            evidence={
                "resolution": resolution,
                "effects": [f"{money.format()} refunded", "customer emailed"],
                "refused": None,
            },
            task="order.cancel",
            outbox=outbox,
        )
    if action == "reship":
        allocation = order["allocation"] or []
        if not allocation:
            return _refused(resolution, f"order #{number} has no shipment to send again")
        plan_again = fulfilment.Plan([fulfilment.Shipment(**s) for s in allocation])
        messages = _shipping(
            event.subject,
            number,
            order["source"],
            plan_again,
            dict(order["shipping_address"] or {}),
            email=order["email"],
            again=handoff_id,
        )
        for shipment in plan_again.shipments:
            for line in shipment.lines:
                record_sale(
                    conn,
                    sku=str(line["sku"]),
                    location=shipment.warehouse,
                    quantity=int(line["quantity"]),
                    reference=f"order:{event.subject}:again:{handoff_id}",
                    at=now,
                )
        conn.execute(
            update(orders)
            .where(orders.c.id == order["id"])
            .values(tracking_number=messages.tracking, last_scan=None, last_scan_at=None, updated_at=now)
        )
        _track(conn, event.subject, now, policy)
        return Decision(
            action="shipment.reship",
            evidence={
                "resolution": resolution,
                "effects": [f"order #{number} sent again ({messages.tracking})", "new tracking at the storefront"],
                "refused": None,
            },
            task="order.fulfil",
            outbox=messages.messages,
        )
    days = int(changes.get("follow_up_days") or 3)
    schedule(
        conn,
        key=f"tracking:{event.subject}",
        kind="clock.tick",
        subject=event.subject,
        at=now + timedelta(days=days),
        payload={"desk": "orders", "check": "tracking"},
    )
    return Decision(
        action="shipment.trace",
        evidence={
            "resolution": resolution,
            "effects": [f"carrier asked to trace {order['tracking_number']}", f"looked at again in {days} days"],
            "refused": None,
        },
        task="order.track",
        outbox=(
            OutboxMessage(
                "carrier",
                "trace.request",
                {"order": number, "tracking_number": order["tracking_number"], "carrier": order["carrier"]},
                f"{event.subject}:irregularity:{handoff_id}:trace",
            ),
        ),
    )


def _customer_email(order: Any, template: str, key: str, **facts: Any) -> OutboxMessage:
    """An email to the order's customer through the outbox: the action names the template the
    email connector renders (``connectors/templates/email/<action>.txt`` and ``.html``)."""
    return OutboxMessage(
        "email",
        template,
        {"to": order["email"], "order": order["number"], **facts},
        f"{order['subject']}:email:{template}:{key}",
    )


def _hold_again(conn: Connection, order: Any, problems: list[str], now: datetime) -> Decision:
    reasons = problem_reasons(problems)
    conn.execute(
        update(orders)
        .where(orders.c.id == order["id"])
        .values(hold_reasons=[reason.value for reason in reasons], updated_at=now)
    )
    return Decision(
        action="order.hold",
        reasons=tuple(reasons),
        evidence={"problems": problems},
        outbox=_hold_messages(order["subject"], order["number"], order["source"], reasons),
        handoff=HandoffRequest(
            role="ops",
            suggestion="Still cannot ship: fix what is listed under problems, then approve.",
            amount=Money(order["total_minor"], order["currency"]),
        ),
    )


def _cancel(
    conn: Connection, order: Any, now: datetime, *, reason: str, refund: bool, tell_customer: bool = False
) -> Decision:
    reference = f"order:{order['subject']}"
    released = release_reference(conn, reference, at=now)
    was_fulfilling = order["status"] == OrderStatus.FULFILLING.value
    conn.execute(
        update(orders).where(orders.c.id == order["id"]).values(status=OrderStatus.CANCELLED.value, updated_at=now)
    )
    cancel(conn, f"tracking:{order['subject']}")
    outbox = [
        OutboxMessage(
            "storefront",
            "order.cancel",
            {"source": order["source"], "order": order["number"], "subject": order["subject"], "reason": reason},
        )
    ]
    if refund and (order["payment_status"] or "").lower() not in FAILED_PAYMENT:
        outbox.append(
            OutboxMessage(
                "payments",
                "refund.create",
                {
                    "source": order["source"],
                    "order": order["number"],
                    "subject": order["subject"],
                    "amount_minor": order["total_minor"],
                    "currency": order["currency"],
                    "reason": reason,
                },
            )
        )
    money = Money(order["total_minor"], order["currency"])
    effects = [f"order #{order['number']} cancelled at the storefront"]
    refunded = refund and (order["payment_status"] or "").lower() not in FAILED_PAYMENT
    if refunded:
        effects.append(f"{money.format()} refunded")
    if was_fulfilling:
        outbox.append(OutboxMessage("warehouse", "fulfilment.cancel", {"order": order["number"]}))
        effects.append("the warehouse told to stop")
    if tell_customer and order["email"]:
        outbox.append(
            _customer_email(order, "order.cancelled", "cancel", refund_text=money.format() if refunded else None)
        )
        effects.append("customer emailed")
    if released:
        effects.append(f"{released} unit{'s' if released != 1 else ''} back in stock")
    return Decision(
        action="order.cancel",
        evidence={"reason": reason, "released_units": released, "effects": effects, "refused": None},
        task="order.cancel",
        outbox=tuple(outbox),
    )


def order_cancelled(event: Event, ctx: HandlerContext) -> Decision | None:
    """The storefront cancelled: release stock and stop the warehouse (no refund: the storefront did it)."""
    cancelled = event.parsed(OrderCancelled)
    order = _order(ctx.conn, event.subject)
    if order is None or order["status"] in (
        OrderStatus.CANCELLED.value,
        OrderStatus.SHIPPED.value,
        OrderStatus.DELIVERED.value,
    ):
        return None
    _supersede(ctx, event, "the storefront cancelled the order")
    # Units go back at the cancellation's time, not the worker's: a count judges the ledger as of its own time.
    at = min(event.occurred_at, ctx.now)
    return _cancel(ctx.conn, order, at, reason=cancelled.reason or "cancelled in the storefront", refund=False)


def _supersede(ctx: HandlerContext, event: Event, why: str) -> list[int]:
    """Close the order's open handoffs that waited on a person: the world moved on."""
    return supersede_handoffs(
        ctx.conn,
        desk=ctx.desk,
        subject=event.subject,
        why=why,
        actor="automation:orders",
        event_id=event.id,
        now=min(event.occurred_at, ctx.now),
        reasons=[reason.value for reason in HELD_REASONS],
    )


def order_updated(event: Event, ctx: HandlerContext) -> Decision | None:
    """The storefront's order changed. Unknown to storeops, it is a new order. Known, it is
    recorded, and when the storefront says it fulfilled or cancelled an order still held for a
    person, that handoff is superseded: there is nothing left to decide (corrections to a held
    order go through the handoff's modify, where a person sees them)."""
    order = _order(ctx.conn, event.subject)
    if order is None:
        return order_created(event, ctx)
    placed = event.parsed(OrderPlaced)
    if order["status"] != OrderStatus.HELD.value or placed.storefront_status not in ("fulfilled", "cancelled"):
        return None
    at = min(event.occurred_at, ctx.now)  # stock moves at the storefront's time (see order_cancelled)
    if placed.storefront_status == "cancelled":
        superseded = _supersede(ctx, event, "the storefront cancelled the order")
        decision = _cancel(ctx.conn, order, at, reason="cancelled in the storefront", refund=False)
    else:
        superseded = _supersede(ctx, event, "the storefront fulfilled the order")
        release_reference(ctx.conn, f"order:{event.subject}", at=at, cause=Cause.SALE)
        ctx.conn.execute(
            update(orders)
            .where(orders.c.id == order["id"])
            .values(status=OrderStatus.SHIPPED.value, updated_at=ctx.now)
        )
        decision = Decision(action="order.fulfilled_at_storefront", evidence={"storefront_status": "fulfilled"})
    return replace(decision, evidence={**decision.evidence, "superseded_handoffs": superseded})


def order_change_requested(event: Event, ctx: HandlerContext) -> Decision | None:
    """The customer asked to change the order: a person makes the change (``change_request``); an
    order that has shipped can no longer change, and the customer is told so by email."""
    request = event.parsed(OrderChangeRequested)
    order = _order(ctx.conn, event.subject)
    if order is None:
        return None
    evidence = {
        "what": request.what,
        "text": request.text,
        "conversation": request.conversation_id,
        "status": order["status"],
    }
    if order["status"] in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value):
        return Decision(
            action="order.change_too_late",
            evidence={**evidence, "effects": ["customer told the order can no longer change"], "refused": None},
            outbox=(_customer_email(order, "order.change_too_late", f"change:{event.id}", status=order["status"]),),
        )
    return Decision(
        action="order.change_requested",
        reasons=(OrderReason.CHANGE_REQUEST,),
        evidence=evidence,
        handoff=HandoffRequest(
            role="ops",
            suggestion=f"The customer asks: “{request.text[:300]}”. Modify the order with the change "
            "(shipping_address, service or drop_lines), or reject to tell them it cannot be done.",
            amount=Money(order["total_minor"], order["currency"]),
        ),
    )


def order_cancel_requested(event: Event, ctx: HandlerContext) -> Decision | None:
    """The customer asked to cancel: cancel and refund while it has not shipped, else a person offers a return."""
    request = event.parsed(OrderCancelRequested)
    order = _order(ctx.conn, event.subject)
    if order is None or order["status"] == OrderStatus.CANCELLED.value:
        return None
    if order["status"] in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value):
        return Decision(
            action="order.cancel_too_late",
            reasons=(OrderReason.CANCELLATION_TOO_LATE,),
            evidence={"status": order["status"], "conversation": request.conversation_id, "reason": request.reason},
            handoff=HandoffRequest(
                role="ops",
                suggestion="It has shipped: tell the customer, and offer a return once it arrives.",
            ),
        )
    return _cancel(ctx.conn, order, ctx.now, reason=request.reason or "the customer asked to cancel", refund=True)


def customer_updated(event: Event, ctx: HandlerContext) -> Decision:
    """The storefront created or changed a customer: keep its tags (VIP), email, sign-up time and
    lifetime spend, which the support desk's VIP rule reads."""
    record = event.parsed(CustomerUpdated)
    policy = ctx.settings(OrdersPolicy)
    store_currency = ctx.policy.store.currency
    spent = None
    if record.total_spent_minor is not None:
        spent = to_store_currency(
            record.total_spent_minor, record.currency or store_currency, store_currency, policy.exchange_rates
        )
    key = f"customer:{event.source}:{record.customer.id}"
    ctx.conn.execute(
        record_customer_statement(ctx.conn.dialect.name),
        {
            "key": key,
            "email": record.customer.email,
            "tags": list(record.customer.tags),
            "signed_up_at": record.customer.created_at,
            "orders_count": 0,
            "lifetime_minor": spent or 0,
            "failed_payments": 0,
            "updated_at": ctx.now,
        },
    )
    evidence: dict[str, Any] = {"tags": list(record.customer.tags), "store_total_spent_minor": spent}
    if record.total_spent_minor is not None and spent is None:
        evidence["unconverted"] = {"total_spent_minor": record.total_spent_minor, "currency": record.currency}
    return Decision(action="customer.import" if record.backfill else "customer.record", evidence=evidence)


def order_paid(event: Event, ctx: HandlerContext) -> Decision | None:
    """Payment captured: recorded on the order."""
    event.parsed(OrderPaid)
    result = ctx.conn.execute(
        update(orders).where(orders.c.subject == event.subject).values(payment_status="paid", updated_at=ctx.now)
    )
    if result.rowcount == 0:
        return None
    return Decision(action="order.payment_recorded", evidence={"payment_status": "paid"})


def shipment_scanned(event: Event, ctx: HandlerContext) -> Decision | None:
    """A tracking scan: advance the order, flag exceptions and returns to sender."""
    scan = event.parsed(ShipmentScanned)
    order = _order(ctx.conn, event.subject)
    if order is None:
        return None
    policy = ctx.settings(OrdersPolicy)
    conn, now = ctx.conn, ctx.now
    values: dict[str, Any] = {"last_scan": scan.status, "last_scan_at": event.occurred_at, "updated_at": now}
    superseded: list[int] = []
    if order["status"] == OrderStatus.HELD.value and scan.status != "label_created":
        # It left without storeops (fulfilled in the storefront's admin): nobody has anything to decide.
        superseded = _supersede(ctx, event, f"the carrier has it ({scan.status}): it was fulfilled outside storeops")
        release_reference(conn, f"order:{event.subject}", at=event.occurred_at, cause=Cause.SALE)
        values["status"] = OrderStatus.SHIPPED.value
    if scan.status in ("in_transit", "out_for_delivery") and order["status"] == OrderStatus.FULFILLING.value:
        release_reference(conn, f"order:{event.subject}", at=event.occurred_at, cause=Cause.SALE)
        values["status"] = OrderStatus.SHIPPED.value
    if scan.status == "delivered":
        values["status"] = OrderStatus.DELIVERED.value
    if order["shipped_at"] is None and scan.status != "label_created":
        values["shipped_at"] = event.occurred_at
    conn.execute(update(orders).where(orders.c.id == order["id"]).values(**values))
    evidence: dict[str, Any] = {
        "scan": scan.status,
        "tracking_number": scan.tracking_number,
        "at": event.occurred_at.isoformat(),
    }
    if superseded:
        evidence["superseded_handoffs"] = superseded
    if scan.status in ("exception", "returned_to_sender"):
        cancel(conn, f"tracking:{event.subject}")
        return Decision(
            action="shipment.flag",
            reasons=(OrderReason.SHIPPING_IRREGULARITY,),
            evidence=evidence,
            handoff=HandoffRequest(
                role="ops",
                suggestion=f"Carrier reports {scan.status.replace('_', ' ')}: contact the carrier and the customer.",
            ),
        )
    if scan.status == "delivered":
        cancel(conn, f"tracking:{event.subject}")
    else:
        schedule(
            conn,
            key=f"tracking:{event.subject}",
            kind="clock.tick",
            subject=event.subject,
            at=event.occurred_at + timedelta(days=policy.tracking_stale_days),
            payload={"desk": "orders", "check": "tracking"},
        )
    return Decision(action="shipment.track", evidence=evidence, task="order.track")


def tracking_check(event: Event, ctx: HandlerContext) -> Decision | None:
    """A tracking timer fired: no scan for ``tracking_stale_days`` is a shipping irregularity."""
    order = _order(ctx.conn, event.subject)
    if order is None or order["status"] not in (OrderStatus.FULFILLING.value, OrderStatus.SHIPPED.value):
        return None
    policy = ctx.settings(OrdersPolicy)
    due = datetime.fromisoformat(str(event.payload["scheduled_for"]))
    last = order["last_scan_at"] or order["placed_at"]
    quiet_days = (due - last).total_seconds() / 86400
    if quiet_days < policy.tracking_stale_days:
        return None  # a scan came in after this timer was set; a newer timer covers it
    return Decision(
        action="shipment.flag",
        reasons=(OrderReason.SHIPPING_IRREGULARITY,),
        evidence={
            "scan": order["last_scan"] or "none",
            "days_without_scan": round(quiet_days, 2),
            "stale_days": policy.tracking_stale_days,
        },
        handoff=HandoffRequest(
            role="ops", suggestion="No tracking scan for too long: ask the carrier where the parcel is."
        ),
    )
