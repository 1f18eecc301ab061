"""Running a simulation: day by day, every desk module, in time order, to a sink."""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, insert

from storeops.engine.events import NewEvent
from storeops.engine.queue import Routes, ingest
from storeops.engine.worker import Worker
from storeops.simulate import inventory, orders, support
from storeops.simulate.truth import Truth
from storeops.simulate.world import World, build_world
from storeops.storage.schema import sim_truth

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
"""Simulations start on a fixed date so the same seed gives byte-identical output."""

DayModule = Callable[[World, datetime, int], list[tuple[NewEvent, list[Truth]]]]
DESK_MODULES: list[DayModule] = [orders.day_events, support.day_events, inventory.day_events]
"""One entry per desk that simulates events; returns, marketing and vendors add theirs here."""


def simulate(days: int, seed: int, start: datetime = DEFAULT_START) -> Iterator[list[tuple[NewEvent, list[Truth]]]]:
    """Yield the backfill (the store's existing products, stock and customers, imported before it
    goes live), then each simulated day's events, oldest first, with their ground truth. Events a
    day sets in motion for later (tracking scans) wait until their own day; those beyond the last
    day have not happened yet and are not emitted."""
    world = build_world(seed, start)
    yield inventory.catalogue_backfill(world) + orders.customer_backfill(world)
    waiting: list[tuple[datetime, int, NewEvent, list[Truth]]] = []
    order = itertools.count()
    for index in range(days):
        day = start + timedelta(days=index)
        items: list[tuple[NewEvent, list[Truth]]] = []
        for module in DESK_MODULES:
            items.extend(module(world, day, index))
        for event, truths in items:
            heapq.heappush(waiting, (event.occurred_at, next(order), event, truths))
        end = day + timedelta(days=1)
        today = []
        while waiting and waiting[0][0] < end:
            _, _, event, truths = heapq.heappop(waiting)
            today.append((event, truths))
        yield today


def to_database(engine: Engine, day: list[tuple[NewEvent, list[Truth]]], routes: Routes) -> tuple[int, int]:
    """Ingest a day's events and store its truth (new events only); returns (new, duplicates)."""
    with engine.begin() as conn:
        result = ingest(conn, [event for event, _ in day], routes=routes)
        if result.ids:
            truths = [asdict(t) for _, ts in day for t in ts]
            if truths:
                conn.execute(insert(sim_truth), truths)
    return len(result.ids), result.duplicates


def write_jsonl(day: list[tuple[NewEvent, list[Truth]]], events_out: IO[str], truth_out: IO[str]) -> None:
    """Append a day's events (native ingest format) and their truth to two JSONL files."""
    for event, truths in day:
        events_out.write(event.model_dump_json() + "\n")
        for truth in truths:
            truth_out.write(json.dumps({"external_id": event.external_id, **asdict(truth)}, sort_keys=True) + "\n")


def truth_path(events_path: Path) -> Path:
    """Where the ground truth of ``events_path`` goes: ``events.truth.jsonl`` beside it."""
    return events_path.with_name(events_path.stem + ".truth.jsonl")


def replay(
    engine: Engine,
    days: int,
    seed: int,
    start: datetime,
    worker: Worker | None = None,
    on_day: Callable[[], None] | None = None,
    *,
    routes: Routes,
) -> tuple[int, int]:
    """Queue the catalogue and each simulated day's events; with a worker, decide each day before
    the next arrives (as a live store would), its timers firing by the simulated clock rather
    than the wall clock. Returns (new events, duplicates)."""
    new = duplicates = 0
    for index, day in enumerate(simulate(days, seed, start)):
        added, seen = to_database(engine, day, routes)
        new += added
        duplicates += seen
        if worker is not None:
            worker.clock = _clock_at(start + timedelta(days=index))
            worker.run(until_idle=True)
        if on_day is not None:
            on_day()
    return new, duplicates


def _clock_at(moment: datetime) -> Callable[[], datetime]:
    """A clock that stands at ``moment`` (never past the real now)."""
    return lambda: min(moment, datetime.now(UTC))
