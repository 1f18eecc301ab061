"""A desk whose handler does nothing, so the benchmarks measure the engine alone."""

from __future__ import annotations

from storeops.engine.context import HandlerContext
from storeops.engine.decisions import Decision
from storeops.engine.desk import Desk
from storeops.engine.events import Event, Payload


class Noop(Payload):
    """``bench.noop``: carries nothing the handler reads."""


def handle(_event: Event, _ctx: HandlerContext) -> Decision | None:
    return None


DESK = Desk(name="bench", kinds={"bench.noop": Noop}, handlers={"bench.noop": handle})
