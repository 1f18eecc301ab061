"""A desk whose every decision sends one message through the outbox, so ``bench.outbox`` measures the sender."""

from __future__ import annotations

from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision, OutboxMessage
from storeops.engine.desk import Desk
from storeops.engine.events import Event, Payload


class Ping(Payload):
    """``bench.ping``: one message to the ``hook`` connector."""

    n: int = 0


def handle(event: Event, _ctx: HandlerContext) -> Decision:
    return Decision(
        action="bench.ping",
        outbox=(OutboxMessage("hook", "bench.ping", {"n": event.payload.get("n", 0), "subject": event.subject}),),
    )


DESK = Desk(name="bench", kinds={"bench.ping": Ping}, handlers={"bench.ping": handle})
