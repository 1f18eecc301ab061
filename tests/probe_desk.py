"""A desk for testing the engine: it records every run so tests can check order and exactly-once.

Wired in explicitly (``STOREOPS_DESKS=tests.probe_desk:DESK`` or ``Registry([DESK])``).
"""

from __future__ import annotations

import enum
import os
import time
from datetime import timedelta

from pydantic import Field
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert

from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, HandoffRequest, OutboxMessage
from storeops.engine.desk import Desk
from storeops.engine.events import Event, Payload
from storeops.engine.scheduler import schedule
from storeops.engine.writebehind import write_later
from storeops.money import Money

probe_metadata = MetaData()
probe_log = Table(
    "probe_log",
    probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, nullable=False),
    Column("subject", String(255), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", Float, nullable=False),
    Column("ended", Float, nullable=False),
)


shadow_log = Table(
    "shadow_log",
    probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", Float, nullable=False),
    Column("ended", Float, nullable=False),
)


class ProbeReason(enum.StrEnum):
    """Reason codes of the probe desk."""

    NEEDS_PERSON = "needs_person"
    """The event asked to be handed to a person."""


class ProbeStep(Payload):
    """``probe.step``: one numbered step of a subject."""

    seq: int
    fail_times: int = Field(0, ge=0)
    """Raise on the first N attempts."""
    sleep_ms: int = Field(0, ge=0)
    handoff: bool = False
    outbox: bool = False
    fail_while_file: str | None = None
    """Raise while this file exists (a bug that someone later fixes)."""
    timer: bool = False
    """Set a timer keyed by the subject first (a write the worker leaves to the end of its batch)."""
    bad_later: bool = False
    """Leave a row for the end of the batch that the database refuses (NOT NULL)."""
    shadow_fail_while_file: str | None = None
    """The shadow desk (not the probe desk) raises while this file exists."""
    shadow_sleep_ms: int = Field(0, ge=0)


class ProbeIgnored(Payload):
    """``probe.ignored``: defined, but no handler."""


def handle_step(event: Event, ctx: HandlerContext) -> Decision:
    step = event.parsed(ProbeStep)
    started = time.time()
    if step.timer:
        schedule(
            ctx.conn,
            key=f"probe:{event.subject}",
            kind="probe.ignored",
            subject=event.subject,
            at=ctx.now + timedelta(days=1),
        )
    if step.bad_later:
        write_later(
            ctx.conn,
            insert(probe_log),
            {"event_id": event.id, "subject": event.subject, "seq": None, "pid": 0, "started": 0.0, "ended": 0.0},
        )
    if step.sleep_ms:
        time.sleep(step.sleep_ms / 1000)
    if event.attempts < step.fail_times:
        raise RuntimeError(f"probe failure on attempt {event.attempts + 1}")
    if step.fail_while_file and os.path.exists(step.fail_while_file):
        raise RuntimeError(f"probe broken while {step.fail_while_file} exists")
    ctx.conn.execute(
        insert(probe_log).values(
            event_id=event.id, subject=event.subject, seq=step.seq, pid=os.getpid(), started=started, ended=time.time()
        )
    )
    if step.handoff:
        return Decision(
            action="probe.hold",
            reasons=(ProbeReason.NEEDS_PERSON,),
            evidence={"seq": step.seq},
            handoff=HandoffRequest(role="ops", suggestion="approve the probe", amount=Money(12345, "EUR")),
        )
    outbox = (
        (OutboxMessage(connector="warehouse", action="probe.ship", payload={"seq": step.seq}),) if step.outbox else ()
    )
    return Decision(action="probe.done", evidence={"seq": step.seq}, task="probe.step", outbox=outbox)


def handle_resolved(event: Event, ctx: HandlerContext) -> Decision:
    ctx.conn.execute(
        insert(probe_log).values(
            event_id=event.id, subject=event.subject, seq=-1, pid=os.getpid(), started=time.time(), ended=time.time()
        )
    )
    resolution = str(event.payload["resolution"])
    return Decision(action=f"probe.resumed.{resolution}", evidence={"resolution": resolution})


DESK = Desk(
    name="probe",
    kinds={"probe.step": ProbeStep, "probe.ignored": ProbeIgnored},
    handlers={"probe.step": handle_step},
    on_handoff_resolved=handle_resolved,
    reasons=ProbeReason,
    manual_minutes={"probe.step": 2.0},
)


def shadow_handle(event: Event, ctx: HandlerContext) -> Decision:
    """The shadow desk subscribes to kinds other desks define and records every delivery it gets."""
    started = time.time()
    if event.kind == "probe.step":
        step = event.parsed(ProbeStep)
        seq = step.seq
        if step.shadow_sleep_ms:
            time.sleep(step.shadow_sleep_ms / 1000)
        if step.shadow_fail_while_file and os.path.exists(step.shadow_fail_while_file):
            raise RuntimeError(f"shadow broken while {step.shadow_fail_while_file} exists")
    else:
        seq = 0
    ctx.conn.execute(
        insert(shadow_log).values(
            event_id=event.id,
            kind=event.kind,
            subject=event.subject,
            seq=seq,
            pid=os.getpid(),
            started=started,
            ended=time.time(),
        )
    )
    return Decision(action="shadow.seen", evidence={"kind": event.kind, "seq": seq})


SHADOW_DESK = Desk(
    name="shadow",
    kinds={},
    handlers={"probe.step": shadow_handle, "order.created": shadow_handle},
)
"""A desk that defines nothing and subscribes to the probe desk's steps and the orders desk's new
orders: the engine's fan-out of one event to several desks."""
