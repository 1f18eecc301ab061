"""Events in: files, storefront imports, the simulator; dead letters and re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from storeops import untrusted
from storeops.bootstrap import App
from storeops.cli.app import _app, _errors, _operator, _progress, app, events_app
from storeops.cli.output import console, print_json
from storeops.commands import events as event_commands
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.queue import list_events
from storeops.engine.worker import Worker
from storeops.errors import InvalidInput
from storeops.storage.db import read_only

# --- events in ----------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[tuple[str, str, Any]]:
    """The raw events of a JSON-lines file, each labelled with its line (``events.jsonl:3``)."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    items: list[tuple[str, str, Any]] = []
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                items.append((f"{path}:{number}", "", untrusted.loads(line)))
            except InvalidInput as exc:
                raise InvalidInput(f"{path}:{number}: {exc.message}", field=exc.field) from None
    return items


@app.command("ingest")
def ingest_command(
    first: Annotated[
        str,
        typer.Argument(
            metavar="FILE|SOURCE", help="FILE.jsonl of native events, or shopify|woocommerce|email|stock-count."
        ),
    ],
    second: Annotated[
        Path | None,
        typer.Argument(show_default=False, metavar="[FILE]", help="The storefront's JSON file, after SOURCE."),
    ] = None,
    topic: Annotated[
        str | None, typer.Option(help="The webhook topic of a storefront FILE, e.g. orders/create or order.created.")
    ] = None,
    backfill: Annotated[
        bool,
        typer.Option(
            "--backfill",
            help="Import the store's existing records as its starting state: no new-SKU or anomaly handoffs, "
            "no labels or messages for orders the storefront already fulfilled.",
        ),
    ] = False,
) -> None:
    """Queue events from a file, through the same path as live traffic.

    storeops ingest events.jsonl — native events, one JSON object a line (see docs/cli.md);
    storeops ingest shopify --topic orders/create order.json — a Shopify webhook body (or REST response);
    storeops ingest shopify --backfill --topic products/create products.json — import a store's existing
    records: the file may hold one body, a REST list ({"products": [...]}), a JSON array or JSON lines;
    storeops ingest woocommerce --topic order.created order.json — a WooCommerce webhook body;
    storeops ingest email message.eml — a customer's email, threaded into its conversation;
    storeops ingest stock-count counts.csv — cycle counts (sku,location,counted[,counted_at]).
    Everything is validated first: one bad line or field is named and nothing is stored."""
    with _errors():
        application = _app()
        if second is None:
            if topic is not None or backfill:
                raise InvalidInput(
                    "--topic and --backfill go with a storefront file: "
                    "storeops ingest shopify [--backfill] --topic orders/create FILE.json"
                )
            result = event_commands.ingest(application, _operator(), _read_jsonl(Path(first)))
            console.print(_stored(len(result.ids), result.duplicates))
            return
        else:
            from storeops.intake import SOURCES

            sources = (*SOURCES, "email", "stock-count")
            if first not in sources:
                raise InvalidInput(
                    f"unknown source {first!r}; use one of: {', '.join(sources)} (or give only a .jsonl file)"
                )
            if backfill and first not in SOURCES:
                raise InvalidInput(f"--backfill imports a storefront's records ({', '.join(SOURCES)}), not {first}")
            try:
                raw = second.read_bytes()
            except OSError as exc:
                raise InvalidInput(f"cannot read {second}: {exc.strerror}") from None
            try:
                if first == "email":
                    parsed = _email_events(raw, application)
                elif first == "stock-count":
                    from storeops.connectors.stock_count import stock_count_events

                    parsed = stock_count_events(raw)
                else:
                    return _ingest_storefront(application, first, topic, second, raw, backfill=backfill)
            except InvalidInput as exc:
                raise InvalidInput(f"{second}: {exc.message}", field=exc.field) from None
        result = event_commands.ingest_parsed(application, _operator(), parsed)
        console.print(_stored(len(result.ids), result.duplicates))


def _stored(new: int, duplicates: int) -> str:
    return (
        f"stored {new:,} new {'event' if new == 1 else 'events'}, "
        f"{duplicates:,} {'duplicate' if duplicates == 1 else 'duplicates'} acknowledged"
    )


def _ingest_storefront(
    application: App, source: str, topic: str | None, path: Path, raw: bytes, *, backfill: bool
) -> None:
    """A storefront file of one or many payloads: read and validate all of it, then store it in
    chunks with a progress bar; an import (``backfill``) is recorded in the audit log as one."""
    from storeops.intake import storefront_file_events

    with _progress() as progress:
        reading = progress.add_task(f"reading {path.name}", total=None)
        parsed = storefront_file_events(
            application, source, topic, raw, backfill=backfill, progress=lambda n: progress.advance(reading, n)
        )
        if backfill:
            storing = progress.add_task("storing", total=len(parsed))
            result = event_commands.import_events(
                application,
                _operator(),
                source,
                topic,
                str(path),
                parsed,
                progress=lambda n: progress.advance(storing, n),
            )
        else:
            result = event_commands.ingest_parsed(application, _operator(), parsed)
    console.print(
        _stored(len(result.ids), result.duplicates) + (" (an import: the store's starting state)" if backfill else "")
    )


def _email_events(raw: bytes, application: App) -> list[NewEvent]:
    from storeops.connectors.email_inbound import to_event

    return [parse_new_event(to_event(raw).model_dump(mode="json"), application.registry.payload_models)]


@app.command("simulate")
def simulate_command(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of store life to simulate.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same events.")] = 7,
    out: Annotated[
        Path | None,
        typer.Option(help="Write events to this JSONL file (truth beside it) instead of the database."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First simulated day, e.g. 2026-01-05 (default: the last day is today).")
    ] = None,
) -> None:
    """Simulate a store and queue its events (or write them to --out), with ground truth kept apart.

    Nothing decides while this runs, so nothing reaches the simulated warehouse and no order
    ships: there are no tracking scans. `storeops demo` lets storeops decide day by day, and the
    simulated warehouse ships what storeops sends it."""
    from storeops.simulate.run import simulate, truth_path, write_jsonl

    with _errors():
        first_day = _start_day(start, days)
        if out is not None:
            truth = truth_path(out)
            try:
                with out.open("w", encoding="utf-8") as events_out, truth.open("w", encoding="utf-8") as truth_out:
                    total = 0
                    with _progress() as progress:
                        task = progress.add_task("simulating", total=days + 1)
                        for day in simulate(days, seed, first_day):
                            write_jsonl(day, events_out, truth_out)
                            total += len(day)
                            progress.advance(task)
            except OSError as exc:
                raise InvalidInput(f"cannot write {exc.filename}: {exc.strerror}") from None
            console.print(f"wrote {total:,} events to {out} and their ground truth to {truth}")
            return
        _has_happened(first_day)
        application = _app()
        new, duplicates = _simulate_into(application, days, seed, first_day)
        console.print(f"stored {new:,} new events ({duplicates:,} already there)")


def _start_day(text: str | None, days: int) -> datetime:
    """The first simulated day: given, or ``days`` before today (UTC midnight) so the store is current."""
    if text is None:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=days - 1)
    try:
        day = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--start: {text!r} is not a date such as 2026-01-05") from None
    return (day if day.tzinfo else day.replace(tzinfo=UTC)).astimezone(UTC)


def _has_happened(start: datetime) -> datetime:
    """``start`` when it is not in the future: a store holds only what has happened."""
    if start > datetime.now(UTC):
        raise InvalidInput(
            f"--start: {start.date().isoformat()} is in the future; a store holds only days that have "
            "happened (`storeops simulate --out FILE` writes future days to a file)"
        )
    return start


def _simulate_into(
    application: App, days: int, seed: int, start: datetime, worker: Worker | None = None
) -> tuple[int, int]:
    from storeops.simulate.run import replay

    with _progress() as progress:
        label = f"simulating {days} days" + (" through the engine" if worker else "")
        task = progress.add_task(label, total=days + 1)
        return replay(
            application.engine,
            days,
            seed,
            start,
            worker,
            on_day=lambda: progress.advance(task),
            team=worker is not None,
            routes=application.registry,
        )


@events_app.command("dead")
def events_dead(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 100,
) -> None:
    """List dead-lettered events with their last error."""
    with _errors():
        application = _app()
        with read_only(application.engine).connect() as conn:
            rows = list_events(conn, status="dead", limit=limit)
        if as_json:
            print_json(rows)
            return
        for row in rows:
            last = (row["last_error"] or "").strip().splitlines()
            console.print(
                f"{row['id']}  {row['desk']}  {row['kind']}  {row['subject']}  attempts={row['attempts']}  "
                f"{last[-1] if last else ''}",
                highlight=False,
            )
        if not rows:
            console.print("no dead events")


@events_app.command("rerun")
def events_rerun(
    event_id: Annotated[int, typer.Argument(help="Id of a dead event.")],
    desk: Annotated[str | None, typer.Option(help="Only its delivery to this desk (default: every dead one).")] = None,
) -> None:
    """Put a dead event back in the queue with fresh attempts (each desk it died at)."""
    with _errors():
        application = _app()
        desks = event_commands.rerun(application, _operator(), event_id, desk=desk)
        console.print(f"event {event_id} queued again for {', '.join(desks)}")
