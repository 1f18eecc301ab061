"""Running a simulation: day by day, every desk module, in time order, to a sink.

With storeops deciding as the days pass (``replay`` with a worker), the loop is closed: after
each simulated day the simulated warehouse and storefront read what storeops sent them (its
outbox) and act on it the next day — an order ships only once storeops has sent it to the
warehouse. Without a worker nothing is decided while the store lives, so nothing is sent and no
order ships (``simulate`` to a file, ``replay`` without a worker), and the same seed gives the
same events into any store.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, insert, select

from storeops.engine.events import NewEvent
from storeops.engine.queue import Routes, ingest
from storeops.engine.worker import Worker
from storeops.simulate import inventory, orders, returns, support, warehouse
from storeops.simulate.team import OpsTeam
from storeops.simulate.truth import Truth
from storeops.simulate.warehouse import LISTENS_TO, Sent
from storeops.simulate.world import World, build_world
from storeops.storage.schema import events, outbox, sim_truth

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
"""Simulations start on a fixed date so the same seed gives byte-identical output."""

Day = list[tuple[NewEvent, list[Truth]]]
DayModule = Callable[[World, datetime, int], Day]
DESK_MODULES: list[DayModule] = [orders.day_events, support.day_events, inventory.day_events, returns.day_events]
"""One entry per desk that simulates events; marketing and vendors add theirs here."""


class Simulation:
    """A seeded store lived one day at a time, whose warehouse acts on what storeops sent it."""

    def __init__(self, seed: int, start: datetime = DEFAULT_START, *, horizon: datetime | None = None) -> None:
        self.world = build_world(seed, start)
        self.start = start
        self.horizon = horizon
        """Nothing at or after this moment is released: it has not happened yet (a store's
        simulation that ends today stops at the present)."""
        self.labels: dict[str, set[str]] = defaultdict(set)
        """Ground truth seen so far, by subject (what the simulated ops team knows)."""
        self._waiting: list[tuple[datetime, int, NewEvent, list[Truth]]] = []
        self._order = itertools.count()

    @property
    def order_prefix(self) -> str:
        """The subjects of this simulation's orders start with this (``order:sim:<seed>-``)."""
        return f"order:sim:{self.world.seed}-"

    @property
    def return_prefix(self) -> str:
        """The subjects of this simulation's returns start with this (``return:R-SIM<seed>-``)."""
        return f"return:{returns.rma_of(f'{self.world.seed}-')}"

    def backfill(self) -> Day:
        """The store's existing products, stock and customers, imported before it goes live."""
        return inventory.catalogue_backfill(self.world) + orders.customer_backfill(self.world)

    def day(self, index: int) -> Day:
        """Day ``index``'s events, oldest first, with their ground truth: the warehouse's and the
        carrier's work on what storeops sent before the day began, then every desk module's.
        Events a day sets in motion for later (tracking scans) wait until their own day."""
        day = self.start + timedelta(days=index)
        items = warehouse.day_events(self.world, day)
        for module in DESK_MODULES:
            # A stream per module and day: what storeops decided (which changes stock, so
            # deliveries and counts) shifts the draws of that module's day, not of every day after.
            self.world.rng = random.Random(f"{self.world.seed}:{module.__module__}:{index}")
            items.extend(module(self.world, day, index))
        for event, truths in items:
            heapq.heappush(self._waiting, (event.occurred_at, next(self._order), event, truths))
        end = day + timedelta(days=1)
        if self.horizon is not None:
            end = min(end, self.horizon)
        today = []
        while self._waiting and self._waiting[0][0] < end:
            _, _, event, truths = heapq.heappop(self._waiting)
            for truth in truths:
                self.labels[truth.subject].add(truth.label)
            today.append((event, truths))
        return today

    def receive(self, messages: Iterable[Sent]) -> None:
        """What storeops sent the warehouse and the storefront; acted on from the next day."""
        warehouse.receive(self.world, list(messages))


def simulate(
    days: int,
    seed: int,
    start: datetime = DEFAULT_START,
    sent: Callable[[datetime], Iterable[Sent]] | None = None,
) -> Iterator[Day]:
    """Yield the backfill, then each simulated day's events, oldest first, with their ground
    truth. After each day, ``sent(end of the day)`` says what storeops sent the warehouse and the
    storefront by then; without it nothing was sent, so no order ships (no tracking scans).
    Events beyond the last day have not happened yet and are not emitted."""
    simulation = Simulation(seed, start)
    yield simulation.backfill()
    for index in range(days):
        yield simulation.day(index)
        if sent is not None:
            simulation.receive(sent(start + timedelta(days=index + 1)))


def to_database(engine: Engine, day: Day, routes: Routes) -> tuple[int, int]:
    """Ingest a day's events and store its truth (new events only); returns (new, duplicates)."""
    with engine.begin() as conn:
        result = ingest(conn, [event for event, _ in day], routes=routes)
        if result.ids:
            truths = [asdict(t) for _, ts in day for t in ts]
            if truths:
                conn.execute(insert(sim_truth), truths)
    return len(result.ids), result.duplicates


def write_jsonl(day: Day, events_out: IO[str], truth_out: IO[str]) -> None:
    """Append a day's events (native ingest format) and their truth to two JSONL files."""
    for event, truths in day:
        events_out.write(event.model_dump_json() + "\n")
        for truth in truths:
            truth_out.write(json.dumps({"external_id": event.external_id, **asdict(truth)}, sort_keys=True) + "\n")


def truth_path(events_path: Path) -> Path:
    """Where the ground truth of ``events_path`` goes: ``events.truth.jsonl`` beside it."""
    return events_path.with_name(events_path.stem + ".truth.jsonl")


class SentReader:
    """Reads, from storeops' outbox, the messages for one simulation's orders (and returns) that
    the simulated warehouse, storefront and customers act on, each dated by the event whose
    decision sent it.

    It reads the outbox rather than standing in for a connector: the row says which event sent
    it, which is when it was sent in the simulated store's time; the rows are there whether or
    not a dispatcher has delivered them yet; and a simulation re-run into the same store reads
    the same rows, so it lives the same days and stores nothing twice.
    """

    def __init__(self, engine: Engine, *prefixes: str) -> None:
        self.engine = engine
        self.prefixes = prefixes
        self.after_id = 0

    def read(self) -> list[Sent]:
        """The messages written since the last read (ids only grow: the replay waits for its worker)."""
        query = (
            select(
                outbox.c.id,
                outbox.c.connector,
                outbox.c.action,
                outbox.c.subject,
                outbox.c.payload,
                outbox.c.idempotency_key,
                events.c.occurred_at,
            )
            .join(events, events.c.id == outbox.c.event_id)
            .where(outbox.c.id > self.after_id, outbox.c.connector.in_(sorted({c for c, _ in LISTENS_TO})))
            .order_by(outbox.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if rows:
            self.after_id = rows[-1].id
        return [
            Sent(row.connector, row.action, row.subject, dict(row.payload), row.idempotency_key, row.occurred_at)
            for row in rows
            if row.subject.startswith(self.prefixes) and (row.connector, row.action) in LISTENS_TO
        ]


def replay(
    engine: Engine,
    days: int,
    seed: int,
    start: datetime,
    worker: Worker | None = None,
    on_day: Callable[[], None] | None = None,
    team: bool = False,
    *,
    routes: Routes,
) -> tuple[int, int]:
    """Queue the catalogue and each simulated day's events; with a worker, decide each day before
    the next arrives (as a live store would), its timers firing by the simulated clock rather
    than the wall clock, and after each day the simulated warehouse reads what storeops sent it.
    Without a worker nothing is sent, so no order ships. With ``team`` (and a worker), a
    simulated ops person works the orders and returns desks' inboxes (``simulate.team``). A store holds only
    what has happened: a last day that is today ends now. Returns (new events, duplicates)."""
    now = datetime.now(UTC)
    simulation = Simulation(seed, start, horizon=now)
    # Without a worker nothing decides while the store lives: the warehouse hears nothing (not
    # even what an earlier run sent), so the same seed queues the same events whatever the store.
    reader = SentReader(engine, simulation.order_prefix, simulation.return_prefix) if worker is not None else None
    people = OpsTeam(simulation) if team and worker is not None else None
    new, duplicates = to_database(engine, simulation.backfill(), routes)
    if worker is not None:
        worker.clock = _clock_at(start)
        worker.run(until_idle=True)
    if on_day is not None:
        on_day()
    for index in range(days):
        end = min(start + timedelta(days=index + 1), now)
        day = simulation.day(index)
        if worker is None or reader is None:
            added, seen = to_database(engine, day, routes)
            new += added
            duplicates += seen
        else:
            # An hour at a time, as a live store decides each event soon after it happens: had
            # the whole day been decided in one go, a count made at 15:00 would be compared with
            # a ledger that already holds the 17:00 sales of other subjects.
            for hour, events_of_hour in itertools.groupby(day, key=lambda item: _hour(item[0].occurred_at)):
                added, seen = to_database(engine, list(events_of_hour), routes)
                new += added
                duplicates += seen
                worker.clock = _clock_at(hour + timedelta(hours=1))
                worker.run(until_idle=True)
            worker.clock = _clock_at(end)
            worker.run(until_idle=True)
            if people is not None and people.work(engine, until=end):
                worker.run(until_idle=True)
            simulation.receive(reader.read())
        if on_day is not None:
            on_day()
    return new, duplicates


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _clock_at(moment: datetime) -> Callable[[], datetime]:
    """A clock that stands at ``moment`` (never past the real now)."""
    return lambda: min(moment, datetime.now(UTC))
