"""The vendors desk: record each delivery against its purchase order and contract, alert the
supplier and the team on an SLA violation at once, and hand a supplier to a person when its
performance really drops or a contract comes up for renewal (docs/vendors.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from storeops.desks.inventory import api as inventory_api
from storeops.desks.vendors import stats
from storeops.desks.vendors.events import ShipmentNotified, SupplierPriceChanged
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.reasons import VendorReason
from storeops.desks.vendors.scorecard import contract_in_force, scorecards
from storeops.desks.vendors.tables import (
    price_changes,
    shipment_notices,
    supplier_items,
    suppliers,
    vendor_contracts,
    vendor_deliveries,
)
from storeops.engine import scheduler
from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.events import Event
from storeops.money import Money

ROLE = "procurement"
DETECTED = ("on_time", "fill", "quality")
"""The metrics the drop detector watches, each as a good or bad delivery: late, short, damaged."""
REPORT_TIMER = "vendors:weekly-report"
BASELINE_CAUTION = 0.75
"""The baseline rate judged against is this quantile of its posterior, not its mean: a baseline
learnt from a dozen deliveries is otherwise often too low, and its noise taken for drops
(bench.vendors: 0.24 false alarms per supplier-year at the mean, 0.12 at 0.75, 0.03 at 0.9 with
slower detection)."""


def supplier_subject(supplier: str) -> str:
    """Where a supplier's decisions, alerts and handoffs are filed."""
    return f"supplier:{supplier}"


def lock_keys(event: Event) -> list[str]:
    """A delivery reads its purchase order line's earlier deliveries and its supplier's record: it is
    decided after the earlier deliveries of the same supplier."""
    supplier = event.payload.get("supplier")
    return [f"supplier:{supplier}"] if isinstance(supplier, str) and supplier else []


def _supplier(conn: Connection, code: str) -> Any:
    return conn.execute(select(suppliers).where(suppliers.c.supplier == code)).first()


def _already_received(conn: Connection, number: str, sku: str, location: str) -> int:
    total = conn.execute(
        select(func.sum(vendor_deliveries.c.received)).where(
            vendor_deliveries.c.purchase_order == number,
            vendor_deliveries.c.sku == sku,
            vendor_deliveries.c.location == location,
        )
    ).scalar_one()
    return int(total or 0)


def deadline_for(
    ordered_at: datetime | None, expected_at: datetime | None, contract_lead_days: int | None
) -> datetime | None:
    """The SLA deadline of a delivery: the contract's lead time from the order when the contract names
    one, else the purchase order's expected date; None without an order."""
    if ordered_at is not None and contract_lead_days is not None:
        return ordered_at + timedelta(days=contract_lead_days)
    return expected_at


def lateness(received_at: datetime, deadline: datetime | None) -> tuple[bool | None, int | None]:
    """(on time, whole minutes late) of a delivery: on time when it arrived at or before the deadline
    (exactly on it counts as on time); minutes are negative when early."""
    if deadline is None:
        return None, None
    seconds = (received_at - deadline).total_seconds()
    return seconds <= 0, int(seconds // 60) if seconds > 0 else -int(-seconds // 60)


def delivery_received(event: Event, ctx: HandlerContext) -> Decision | None:
    """Score a supplier's delivery; alert on an SLA violation; hand off a real performance drop."""
    conn, policy = ctx.conn, ctx.settings(VendorsPolicy)
    payload = event.payload
    reference = f"{event.source}:{event.external_id}"
    if conn.execute(select(vendor_deliveries.c.id).where(vendor_deliveries.c.reference == reference)).first():
        return None  # the same delivery again (a re-run): one row, one alert
    code, sku, location = str(payload["supplier"]), str(payload["sku"]), str(payload["location"])
    received, damaged = int(payload["quantity"]), int(payload.get("damaged") or 0)
    received_at = event.occurred_at
    number = payload.get("purchase_order")
    order = inventory_api.purchase_order(conn, str(number)) if number else None
    contract = contract_in_force(conn, code, received_at.date(), policy)
    ordered = ordered_at = expected_at = cost = None
    currency = None
    if order is not None:
        line = next((li for li in order.lines if li["sku"] == sku and li["location"] == location), None)
        if line is None:
            line = next((li for li in order.lines if li["sku"] == sku), None)
        if line is not None:
            ordered = max(0, int(line["quantity"]) - _already_received(conn, order.number, sku, location))
            cost = int(line.get("cost_minor") or 0) or None
        ordered_at = order.confirmed_at or order.created_at
        expected_at = order.expected_at
        currency = order.currency
    deadline = deadline_for(ordered_at, expected_at, contract.lead_time_days)
    on_time, late_minutes = lateness(received_at, deadline)
    short = ordered is not None and received < ordered
    item = conn.execute(
        select(supplier_items.c.cost_minor, supplier_items.c.currency).where(
            supplier_items.c.supplier == code, supplier_items.c.sku == sku
        )
    ).first()
    catalogue_cost = item.cost_minor if item is not None and (currency is None or item.currency == currency) else None
    reasons: list[VendorReason] = []
    if on_time is False:
        reasons.append(VendorReason.LATE_DELIVERY)
    if short:
        reasons.append(VendorReason.SHORT_SHIPMENT)
    facts: dict[str, Any] = {
        "supplier": code,
        "purchase_order": number,
        "sku": sku,
        "location": location,
        "ordered": ordered,
        "received": received,
        "damaged": damaged,
        "ordered_at": ordered_at.isoformat() if ordered_at else None,
        "deadline": deadline.isoformat() if deadline else None,
        "received_at": received_at.isoformat(),
        "late_minutes": late_minutes,
        "contract": contract.contract,
        "contract_lead_time_days": contract.lead_time_days,
        "announced_at": _announced(conn, str(number), sku) if number else None,
    }
    inserted = conn.execute(
        insert(vendor_deliveries).values(
            reference=reference,
            supplier=code,
            purchase_order=number,
            sku=sku,
            location=location,
            ordered=ordered,
            received=received,
            damaged=damaged,
            cost_minor=cost,
            catalogue_cost_minor=catalogue_cost,
            currency=currency,
            ordered_at=ordered_at,
            deadline=deadline,
            received_at=received_at,
            late_minutes=late_minutes,
            on_time=on_time,
            short=short,
            alerted=bool(reasons),
        )
    )
    row_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
    keep_report_running(conn, policy, ctx.now)
    supplier = _supplier(conn, code)
    outbox = sla_alerts(supplier, code, reference, reasons, facts, policy) if reasons else ()
    drops = new_drops(conn, code, int(row_id), policy)
    action = "vendor.sla_alert" if reasons else "vendor.performance_drop" if drops else "vendor.delivery_scored"
    handoff = None
    if drops:
        reasons.append(VendorReason.PERFORMANCE_DROP)
        facts["drops"] = drops
        worst = max(drops, key=lambda d: d["probability"])
        handoff = HandoffRequest(
            role=ROLE,
            suggestion=f"{supplier.name if supplier else code}: {drop_sentence(worst)} Talk to them; approve to "
            "note it was handled.",
            priority=2,
        )
    return Decision(
        action=action,
        reasons=tuple(reasons),
        evidence=facts,
        task="vendors.sla_check",
        handoff=handoff,
        outbox=outbox,
        subject=supplier_subject(code),
    )


def _minutes(count: int | None) -> str:
    return f"{count} minute{'' if count == 1 else 's'}"


def _when(moment: str | None) -> str:
    return datetime.fromisoformat(moment).strftime("%d %B %Y %H:%M UTC") if moment else "–"


def sla_alerts(
    supplier: Any,
    code: str,
    reference: str,
    reasons: Sequence[VendorReason],
    facts: dict[str, Any],
    policy: VendorsPolicy,
) -> tuple[OutboxMessage, ...]:
    """The supplier's email (when it has a contact) and the team's notice for one delivery's SLA
    violation, each keyed by the delivery so it is sent once."""
    late = VendorReason.LATE_DELIVERY in reasons
    short = VendorReason.SHORT_SHIPMENT in reasons
    what = " and ".join(part for part, hit in (("late", late), ("short", short)) if hit)
    summary = (
        f"Delivery of {facts['sku']} for {facts['purchase_order'] or 'no purchase order'} was {what}: "
        + (f"{_minutes(facts['late_minutes'])} after the deadline {_when(facts['deadline'])}" if late else "")
        + ("; " if late and short else "")
        + (f"{facts['received']} of {facts['ordered']} units" if short else "")
        + "."
    )
    messages: list[OutboxMessage] = []
    subject = supplier_subject(code)
    if supplier is not None and supplier.contact_email:
        messages.append(
            OutboxMessage(
                "email",
                "vendor.sla_breach",
                {
                    "to": supplier.contact_email,
                    "contact_name": supplier.contact_name or supplier.name,
                    "supplier": supplier.name,
                    "purchase_order": facts["purchase_order"] or "(none)",
                    "sku": facts["sku"],
                    "late": late,
                    "short": short,
                    "what": what,
                    "deadline": _when(facts["deadline"]),
                    "received_at": _when(facts["received_at"]),
                    "late_minutes": facts["late_minutes"],
                    "ordered": facts["ordered"],
                    "received": facts["received"],
                },
                f"vendors:sla:{reference}:email",
                subject=subject,
            )
        )
    if policy.alert_team:
        messages.append(
            OutboxMessage(
                "notify",
                "vendor.sla_breach",
                {
                    "desk": "vendors",
                    "subject": subject,
                    "reasons": [reason.value for reason in reasons],
                    "suggestion": summary,
                    "priority": 2,
                    "at_risk": False,
                },
                f"vendors:sla:{reference}:notify",
                subject=subject,
            )
        )
    return tuple(messages)


def _series(conn: Connection, code: str) -> list[Any]:
    return list(
        conn.execute(
            select(
                vendor_deliveries.c.id,
                vendor_deliveries.c.on_time,
                vendor_deliveries.c.short,
                vendor_deliveries.c.ordered,
                vendor_deliveries.c.damaged,
                vendor_deliveries.c.received_at,
            )
            .where(vendor_deliveries.c.supplier == code)
            .order_by(vendor_deliveries.c.received_at, vendor_deliveries.c.id)
        )
    )


def arls_for(times: Sequence[datetime], policy: VendorsPolicy) -> list[float]:
    """The deliveries wanted between false alarms at each delivery, from the supplier's own pace so
    far (deliveries per year, at least 12) and the policy's false-alarm budget: the same history
    always gives the same thresholds, so replaying it finds the same alarms."""
    out = []
    for index, moment in enumerate(times):
        years = stats.years_between(times[0], moment) if index else 1.0
        pace = max(12.0, (index + 1) / max(years, 0.25))
        out.append(stats.target_arl(pace, policy.false_alarms_per_year, len(DETECTED)))
    return out


def outcomes(rows: Sequence[Any]) -> dict[str, list[tuple[int, datetime, bool]]]:
    """Each detected metric's series of (delivery id, time, bad) over ``rows`` (a delivery with no
    deadline says nothing of on-time, one with no order nothing of fill)."""
    series: dict[str, list[tuple[int, datetime, bool]]] = {metric: [] for metric in DETECTED}
    for row in rows:
        if row.on_time is not None:
            series["on_time"].append((row.id, row.received_at, not row.on_time))
        if row.ordered is not None:
            series["fill"].append((row.id, row.received_at, bool(row.short)))
        series["quality"].append((row.id, row.received_at, int(row.damaged) > 0))
    return series


def detect(series: Sequence[tuple[int, datetime, bool]], policy: VendorsPolicy) -> list[stats.Drop]:
    """Every alarm of the drop detector over one metric's series."""
    if not series:
        return []
    return stats.cusum_drops(
        [bad for _, _, bad in series],
        arl0=arls_for([at for _, at, _ in series], policy),
        caution=BASELINE_CAUTION,
        odds_ratio=policy.drop_odds_ratio,
        baseline_min=policy.baseline_deliveries,
    )


def new_drops(conn: Connection, code: str, delivery_id: int, policy: VendorsPolicy) -> list[dict[str, Any]]:
    """The drops the detector finds at delivery ``delivery_id`` (the one just recorded), as evidence."""
    found = []
    for metric, series in outcomes(_series(conn, code)).items():
        for drop in detect(series, policy):
            if series[drop.index][0] != delivery_id:
                continue
            found.append(
                {
                    "metric": metric,
                    "baseline_bad_rate": round(drop.baseline_rate, 4),
                    "recent_bad_rate": round(drop.recent_rate, 4),
                    "recent_deliveries": drop.recent_count,
                    "since": series[drop.since][1].isoformat(),
                    "statistic": round(drop.statistic, 3),
                    "threshold": round(drop.threshold, 3),
                    "probability": round(drop.probability, 4),
                    "false_alarms_per_year": policy.false_alarms_per_year,
                }
            )
    return found


WORDS = {"on_time": "late deliveries", "fill": "short deliveries", "quality": "deliveries with damaged units"}


def drop_sentence(drop: dict[str, Any]) -> str:
    """A drop in one sentence: which metric, how much, since when, how sure."""
    return (
        f"{WORDS[drop['metric']]} went from {drop['baseline_bad_rate']:.0%} to {drop['recent_bad_rate']:.0%} "
        f"over the last {drop['recent_deliveries']} deliveries, since {drop['since'][:10]} "
        f"({drop['probability']:.0%} sure it is worse than before)."
    )


def _announced(conn: Connection, number: str, sku: str) -> str | None:
    """When the latest advance shipping notice of the line said it would arrive (None: no notice)."""
    found = conn.execute(
        select(shipment_notices.c.expected_at)
        .where(shipment_notices.c.purchase_order == number, shipment_notices.c.sku == sku)
        .order_by(shipment_notices.c.id.desc())
        .limit(1)
    ).scalar()
    return found.isoformat() if found is not None else None


# -- purchase orders --


def purchase_order_drafted(event: Event, ctx: HandlerContext) -> Decision | None:
    """Check a purchase order the reorder run drafted against the supplier catalogue: each line's
    cost beside the supplier's catalogue cost and any cheaper offer for the SKU — on record, for
    whoever confirms the order and for the renewal (the inventory desk's handoff asks the person)."""
    number = str(event.payload.get("number") or "")
    order = inventory_api.purchase_order(ctx.conn, number) if number else None
    if order is None:
        return None
    skus = sorted({str(line["sku"]) for line in order.lines})
    offers: dict[str, list[Any]] = {}
    for item in ctx.conn.execute(
        select(supplier_items).where(supplier_items.c.sku.in_(skus)).order_by(supplier_items.c.cost_minor)
    ):
        offers.setdefault(item.sku, []).append(item)
    lines = []
    for line in order.lines:
        sku, cost = str(line["sku"]), int(line.get("cost_minor") or 0)
        own = next((o for o in offers.get(sku, []) if o.supplier == order.supplier), None)
        cheaper = [
            {"supplier": o.supplier, "cost_minor": int(o.cost_minor), "lead_time_days": o.lead_time_days}
            for o in offers.get(sku, [])
            if o.supplier != order.supplier and o.currency == order.currency and int(o.cost_minor) < cost
        ]
        lines.append(
            {
                "sku": sku,
                "cost_minor": cost,
                "catalogue_cost_minor": int(own.cost_minor) if own is not None else None,
                "cheaper": cheaper,
            }
        )
    return Decision(
        action="vendor.order_checked",
        evidence={"number": number, "supplier": order.supplier, "currency": order.currency, "lines": lines},
        subject=supplier_subject(order.supplier),
    )


# -- advance shipping notices --


def shipment_notified(event: Event, ctx: HandlerContext) -> Decision | None:
    """Keep a supplier's advance shipping notice; one that announces arrival after the SLA deadline
    warns the team now, before the delivery is late."""
    notice = event.parsed(ShipmentNotified)
    conn, policy = ctx.conn, ctx.settings(VendorsPolicy)
    reference = f"{event.source}:{event.external_id}"
    if conn.execute(select(shipment_notices.c.id).where(shipment_notices.c.reference == reference)).first():
        return None
    order = inventory_api.purchase_order(conn, notice.purchase_order)
    contract = contract_in_force(conn, notice.supplier, event.occurred_at.date(), policy)
    deadline = (
        deadline_for(order.confirmed_at or order.created_at, order.expected_at, contract.lead_time_days)
        if order is not None
        else None
    )
    conn.execute(
        insert(shipment_notices).values(
            reference=reference,
            supplier=notice.supplier,
            purchase_order=notice.purchase_order,
            sku=notice.sku,
            quantity=notice.quantity,
            expected_at=notice.expected_at,
            deadline=deadline,
            notified_at=event.occurred_at,
        )
    )
    facts: dict[str, Any] = {
        "supplier": notice.supplier,
        "purchase_order": notice.purchase_order,
        "sku": notice.sku,
        "quantity": notice.quantity,
        "expected_at": notice.expected_at.isoformat(),
        "deadline": deadline.isoformat() if deadline else None,
        "contract": contract.contract,
    }
    subject = supplier_subject(notice.supplier)
    if deadline is None or notice.expected_at <= deadline:
        return Decision(action="vendor.notice_recorded", evidence=facts, subject=subject)
    late_by = int((notice.expected_at - deadline).total_seconds() // 60)
    facts["late_minutes"] = late_by
    outbox: tuple[OutboxMessage, ...] = ()
    if policy.alert_team:
        summary = (
            f"{notice.supplier} announces {notice.quantity} × {notice.sku} for {notice.purchase_order} on "
            f"{_when(facts['expected_at'])}, {_minutes(late_by)} after the deadline {_when(facts['deadline'])}."
        )
        outbox = (
            OutboxMessage(
                "notify",
                "vendor.sla_at_risk",
                {
                    "desk": "vendors",
                    "subject": subject,
                    "reasons": [VendorReason.LATE_NOTICE.value],
                    "suggestion": summary,
                    "priority": 2,
                    "at_risk": True,
                },
                f"vendors:notice:{reference}:notify",
                subject=subject,
            ),
        )
    return Decision(
        action="vendor.sla_at_risk",
        reasons=(VendorReason.LATE_NOTICE,),
        evidence=facts,
        outbox=outbox,
        subject=subject,
    )


# -- price changes --


def price_changed(event: Event, ctx: HandlerContext) -> Decision | None:
    """A supplier's new unit cost: the catalogue takes it, the change is kept for cost variance."""
    change = event.parsed(SupplierPriceChanged)
    conn = ctx.conn
    item = conn.execute(
        select(supplier_items).where(supplier_items.c.supplier == change.supplier, supplier_items.c.sku == change.sku)
    ).first()
    old = int(item.cost_minor) if item is not None else None
    facts: dict[str, Any] = {
        "supplier": change.supplier,
        "sku": change.sku,
        "old_cost_minor": old,
        "cost_minor": change.cost_minor,
        "currency": change.currency,
        "change": None if not old else round((change.cost_minor - old) / old, 4),
    }
    conn.execute(
        insert(price_changes).values(
            supplier=change.supplier,
            sku=change.sku,
            old_cost_minor=old,
            cost_minor=change.cost_minor,
            currency=change.currency,
            at=event.occurred_at,
            facts=facts,
        )
    )
    if item is not None:
        conn.execute(
            update(supplier_items)
            .where(supplier_items.c.supplier == change.supplier, supplier_items.c.sku == change.sku)
            .values(cost_minor=change.cost_minor, currency=change.currency, updated_at=ctx.now)
        )
    return Decision(action="vendor.price_recorded", evidence=facts, subject=supplier_subject(change.supplier))


# -- timers: renewals and the weekly report --


def renewal_due_on(ends_on: date, notice_days: int, policy: VendorsPolicy) -> date:
    """The day a contract goes to a person: its notice period plus renewal_lead_days before its end."""
    return ends_on - timedelta(days=notice_days + policy.renewal_lead_days)


def renewal_timer_key(contract: str) -> str:
    """The timer of one contract's renewal."""
    return f"vendors:renewal:{contract}"


def schedule_renewal(
    conn: Connection, contract: str, ends_on: date, notice_days: int, policy: VendorsPolicy
) -> datetime:
    """Set (or move) the contract's renewal timer to the start (00:00 UTC) of its renewal day."""
    at = datetime.combine(renewal_due_on(ends_on, notice_days, policy), time(0, 0), tzinfo=UTC)
    scheduler.schedule(
        conn,
        key=renewal_timer_key(contract),
        kind="clock.tick",
        subject=f"contract:{contract}",
        at=at,
        payload={"desk": "vendors", "task": "renewal", "contract": contract},
    )
    return at


def keep_report_running(conn: Connection, policy: VendorsPolicy, now: datetime) -> None:
    """Set up the weekly report's recurring timer once, when [vendors] report_to names someone (later
    calls leave its next slot alone)."""
    if not policy.report_to:
        return
    first = datetime.combine(now.date(), time(policy.report_hour_utc), tzinfo=UTC)
    first += timedelta(days=(policy.report_weekday - first.weekday()) % 7)
    if first <= now:
        first += timedelta(days=7)
    scheduler.schedule(
        conn,
        key=REPORT_TIMER,
        kind="clock.tick",
        subject="vendors:report",
        at=first,
        payload={"desk": "vendors", "task": "report"},
        every_minutes=7 * 24 * 60,
        replace=False,
    )


SWEEP_TIMER = "vendors:renewal-sweep"


def keep_sweep_running(conn: Connection, now: datetime) -> None:
    """Set up the daily renewal sweep once (00:30 UTC): it moves each contract's renewal timer to
    the day the current policy gives, so a changed [vendors] renewal_lead_days takes effect within a
    day, earlier as well as later."""
    first = datetime.combine(now.date(), time(0, 30), tzinfo=UTC)
    if first <= now:
        first += timedelta(days=1)
    scheduler.schedule(
        conn,
        key=SWEEP_TIMER,
        kind="clock.tick",
        subject="vendors:renewals",
        at=first,
        payload={"desk": "vendors", "task": "sweep"},
        every_minutes=24 * 60,
        replace=False,
    )


def renewal_sweep(event: Event, ctx: HandlerContext) -> Decision | None:
    """Move every pending contract's renewal timer to its day under the current policy (a day already
    past fires at once)."""
    policy = ctx.settings(VendorsPolicy)
    moved = []
    for row in ctx.conn.execute(
        select(vendor_contracts).where(
            vendor_contracts.c.renewal_opened_at.is_(None), vendor_contracts.c.ends_on >= event.occurred_at.date()
        )
    ):
        due = renewal_due_on(row.ends_on, row.notice_days, policy)
        at = schedule_renewal(ctx.conn, row.contract, row.ends_on, row.notice_days, policy)
        moved.append({"contract": row.contract, "renewal_due_on": due.isoformat(), "timer": at.isoformat()})
    if not moved:
        return None
    return Decision(
        action="vendor.renewals_scheduled",
        evidence={"renewal_lead_days": policy.renewal_lead_days, "contracts": moved[:200]},
    )


def on_timer(event: Event, ctx: HandlerContext) -> Decision | None:
    """A contract's renewal day, the daily renewal sweep, or the weekly report."""
    task = event.payload.get("task")
    if task == "renewal":
        return renewal_due(event, ctx)
    if task == "sweep":
        return renewal_sweep(event, ctx)
    if task == "report":
        return weekly_report(event, ctx)
    return None


def renewal_due(event: Event, ctx: HandlerContext) -> Decision | None:
    """Hand a contract to a person on its renewal day, with its scorecard, spend and alternatives;
    once per end date. A policy change that moved the day later moves the timer instead."""
    conn, policy = ctx.conn, ctx.settings(VendorsPolicy)
    number = str(event.payload.get("contract"))
    row = conn.execute(select(vendor_contracts).where(vendor_contracts.c.contract == number)).first()
    if row is None or row.renewal_opened_at is not None:
        return None
    due = renewal_due_on(row.ends_on, row.notice_days, policy)
    if event.occurred_at.date() < due:
        schedule_renewal(conn, number, row.ends_on, row.notice_days, policy)
        return None
    conn.execute(
        update(vendor_contracts)
        .where(vendor_contracts.c.contract == number)
        .values(renewal_opened_at=event.occurred_at)
    )
    evidence = renewal_evidence(conn, row, policy, event.occurred_at)
    card = evidence["scorecard"]
    supplier = _supplier(conn, row.supplier)
    name = supplier.name if supplier is not None else row.supplier
    score = f"score {card['score']} ({card['standing']})" if card.get("score") is not None else "no deliveries scored"
    return Decision(
        action="vendor.renewal_due",
        reasons=(VendorReason.CONTRACT_RENEWAL_DUE,),
        evidence=evidence,
        handoff=HandoffRequest(
            role=ROLE,
            suggestion=f"Contract {number} with {name} ends {row.ends_on}; notice is due by "
            f"{row.ends_on - timedelta(days=row.notice_days)}. Last 12 months: {score}, "
            f"{len(evidence['alternatives'])} alternative offers for its SKUs. Decide: renew, renegotiate or switch.",
            amount=Money(evidence["spend_minor"], evidence["currency"]) if evidence["currency"] else None,
        ),
        subject=supplier_subject(row.supplier),
    )


def renewal_evidence(conn: Connection, row: Any, policy: VendorsPolicy, now: datetime) -> dict[str, Any]:
    """A contract's facts for its renewal: the last 12 months' scorecard, the spend, and other
    suppliers' catalogue offers for the same SKUs."""
    since = now - timedelta(days=365)
    [card] = [
        c
        for c in scorecards(conn, policy, since=since, until=now, period="last-12-months")
        if c["supplier"] == row.supplier
    ] or [{}]
    orders = inventory_api.purchase_orders_of(conn, row.supplier, since=since, until=now)
    currencies = {order.currency for order in orders}
    own = {
        item.sku: item for item in conn.execute(select(supplier_items).where(supplier_items.c.supplier == row.supplier))
    }
    alternatives = (
        [
            {
                "sku": item.sku,
                "supplier": item.supplier,
                "cost_minor": int(item.cost_minor),
                "currency": item.currency,
                "moq": item.moq,
                "pack_size": item.pack_size,
                "lead_time_days": item.lead_time_days,
                "current_cost_minor": int(own[item.sku].cost_minor),
            }
            for item in conn.execute(
                select(supplier_items)
                .where(supplier_items.c.sku.in_(sorted(own)), supplier_items.c.supplier != row.supplier)
                .order_by(supplier_items.c.sku, supplier_items.c.cost_minor)
            )
        ]
        if own
        else []
    )
    return {
        "contract": row.contract,
        "supplier": row.supplier,
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "notice_days": row.notice_days,
        "renewal_lead_days": policy.renewal_lead_days,
        "price_terms": row.price_terms,
        "scorecard": card,
        "spend_minor": sum(order.total_minor for order in orders) if len(currencies) <= 1 else None,
        "currency": next(iter(currencies)) if len(currencies) == 1 else None,
        "purchase_orders": len(orders),
        "alternatives": alternatives,
    }


def weekly_report(event: Event, ctx: HandlerContext) -> Decision | None:
    """The weekly vendors report to procurement: the HTML in the mail, the PDF and CSV attached."""
    import base64

    from storeops.desks.vendors.report import render_csv, render_pdf, report_data

    policy = ctx.settings(VendorsPolicy)
    if not policy.report_to:
        return None
    until = event.occurred_at
    data = report_data(ctx.conn, policy, since=until - timedelta(days=7), until=until, title="Weekly vendors report")
    return Decision(
        action="vendor.report_sent",
        evidence={"period": data["period"], "suppliers": len(data["cards"]), "to": policy.report_to},
        task="vendors.report",
        outbox=(
            OutboxMessage(
                "email",
                "vendor.report",
                {
                    "to": policy.report_to,
                    **data,
                    "attachments": [
                        {
                            "filename": f"vendors-{until:%Y-%m-%d}.pdf",
                            "content_type": "application/pdf",
                            "base64": base64.b64encode(render_pdf(data)).decode("ascii"),
                        },
                        {
                            "filename": f"vendors-{until:%Y-%m-%d}.csv",
                            "content_type": "text/csv",
                            "base64": base64.b64encode(render_csv(data).encode("utf-8")).decode("ascii"),
                        },
                    ],
                },
                f"vendors:report:{until:%Y-%m-%d}",
                subject="vendors:report",
            ),
        ),
    )
