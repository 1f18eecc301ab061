"""Running it: the worker, the web app with a worker beside it, and the demo."""

from __future__ import annotations

import os
import secrets
import signal
import threading
from typing import Annotated

import typer
from sqlalchemy import func, select

from storeops.accounts import (
    add_user,
    set_password,
)
from storeops.bootstrap import App
from storeops.cli.app import _app, _errors, _progress, _warm_up, app
from storeops.cli.events import _has_happened, _simulate_into, _start_day
from storeops.cli.output import console, err_console, report_tables
from storeops.clock import utcnow
from storeops.connectors.base import Connector
from storeops.engine.metrics import compute_report
from storeops.engine.outbox import pending_outbox
from storeops.engine.policy import record_policy_version
from storeops.engine.queue import event_states, pending_deliveries
from storeops.engine.worker import TimerClock, Worker
from storeops.errors import Conflict
from storeops.storage.db import read_only
from storeops.storage.migrate import upgrade

# --- the worker ------------------------------------------------------------------------------


def _pending(application: App, kind: str | None = None) -> int:
    query = select(func.count()).select_from(event_states).where(event_states.c.status == "pending")
    if kind is not None:
        query = query.where(event_states.c.kind == kind)
    with read_only(application.engine).connect() as conn:
        return int(conn.execute(query).scalar_one())


def _work_until_idle(
    application: App,
    batch: int | None,
    connectors: dict[str, Connector],
    *,
    label: str = "deciding",
    timer_clock: TimerClock = TimerClock.WALL,
) -> Worker:
    worker = Worker(
        application.engine,
        application.registry,
        application.policy,
        connectors=connectors,
        batch_size=batch,
        name=f"worker-{os.getpid()}",
        models=application.models,
        timer_clock=timer_clock,
    )
    total = _pending(application)
    with _progress() as progress:
        task = progress.add_task(label, total=total or None)
        worker.run(until_idle=True, on_batch=lambda b: progress.advance(task, b.done + b.unhandled + b.dead))
    return worker


@app.command("work")
def work_command(
    until_idle: Annotated[
        bool,
        typer.Option(
            "--until-idle",
            help="Stop when no event and no outbox message is due: first taking over the outbox leases of a "
            "sender that died on this machine and waiting (up to [outbox] lease_seconds) for other leases; "
            "then say what is still pending and why.",
        ),
    ] = False,
    batch: Annotated[
        int | None, typer.Option(min=1, max=5000, help="Events per transaction ([engine] batch_size).")
    ] = None,
    outbox: Annotated[
        bool,
        typer.Option(
            "--outbox/--no-outbox",
            help="Also send the outbox (labels, warehouse, storefront). Use --no-outbox on workers that "
            "should only decide, with one worker (or more) left sending.",
        ),
    ] = True,
    clock: Annotated[
        TimerClock | None,
        typer.Option(
            "--clock",
            case_sensitive=False,
            help="What time timers fire by: 'wall' for live traffic, or 'events' to replay a backlog (an import, "
            "storeops simulate, a backtest) in the events' own time — each timer fires once the events that "
            "happened before it are decided, never past the newest event, so the same input gives the same "
            "decisions at any speed. Default: [engine] clock (wall).",
        ),
    ] = None,
) -> None:
    """Run a worker: claim events, run the desks, record decisions, send the outbox. Any number of
    workers may run at once on PostgreSQL; SIGTERM finishes the batch in hand and exits."""
    # A SIGTERM while the app is still being set up (policy, connectors) ends the worker cleanly
    # before it claims anything, instead of killing it; the worker's own handlers take over below.
    early_stop = threading.Event()
    if not until_idle:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _signum, _frame: early_stop.set())
    with _errors():
        application = _app()
        connectors = application.connectors() if outbox else {}
        timer_clock = clock or TimerClock(application.policy.engine.clock)
        if until_idle:
            worker = _work_until_idle(application, batch, connectors, timer_clock=timer_clock)
        else:
            worker = Worker(
                application.engine,
                application.registry,
                application.policy,
                connectors=connectors,
                batch_size=batch,
                name=f"worker-{os.getpid()}",
                policy_file=application.policy_file(),
                models=application.models,
                timer_clock=timer_clock,
            )
            worker.install_signal_handlers()
            if early_stop.is_set():
                worker.stop()
            err_console.print(f"worker {worker.name} running (Ctrl-C to stop)")
            worker.run()
        worker.close()
        stats = worker.stats
        console.print(
            f"handled {stats.done:,} events, {stats.unhandled:,} unhandled, {stats.failed:,} failed "
            f"({stats.dead:,} dead-lettered), {stats.outbox_sent:,} outbox messages sent, "
            f"{stats.timers_fired:,} timers fired"
            + (f" (events' clock at {worker.event_time:%Y-%m-%d %H:%M}Z)" if worker.event_time else ""),
            soft_wrap=True,
        )
        if until_idle:
            _say_what_is_left(application)


def _say_what_is_left(application: App) -> None:
    """After --until-idle: what is still pending and why (a retry's time, whose lease until when),
    so an idle worker never looks like an empty queue."""
    now = utcnow()
    with read_only(application.engine).connect() as conn:
        queue = pending_deliveries(conn, now=now)
        messages = pending_outbox(conn, now=now)
        conn.rollback()
    if queue.total:
        console.print(queue.describe(), soft_wrap=True)
    if messages.total:
        console.print(messages.describe(), soft_wrap=True)


# --- serving and the demo ------------------------------------------------------------------------


def _serve(application: App, host: str, port: int, *, with_worker: bool) -> None:
    import uvicorn

    from storeops.web.app import create_app

    worker: Worker | None = None
    thread: threading.Thread | None = None
    if with_worker:
        _warm_up(application)
        worker = Worker(
            application.engine,
            application.registry,
            application.policy,
            connectors=application.connectors(),
            policy_file=application.policy_file(),
            models=application.models,
        )
        thread = threading.Thread(target=worker.run, name="storeops-worker", daemon=True)
        thread.start()
    console.print(f"serving storeops on http://{host}:{port}  (Ctrl-C to stop)")
    try:
        # Proxy headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; the app
        # reads them itself, from STOREOPS_TRUSTED_PROXIES only (web.middleware.TrustedProxies).
        uvicorn.run(create_app(application), host=host, port=port, log_level="warning", proxy_headers=False)
    finally:
        if worker is not None and thread is not None:
            worker.stop()
            thread.join(timeout=10)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run a worker in the same process.")] = True,
) -> None:
    """Serve the web app (and, by default, a worker beside it).

    Behind a reverse proxy, set STOREOPS_TRUSTED_PROXIES to its address: X-Forwarded-For and
    X-Forwarded-Proto are believed from it only (docs/security.md)."""
    with _errors():
        _serve(_app(), host, port, with_worker=worker)


DEMO_OWNER = "owner@demo.storeops.local"


def _demo_owner(application: App) -> str:
    """Create (or reset) the demo's owner account with a fresh random password; returns it."""
    password = secrets.token_urlsafe(12)
    with application.engine.begin() as conn:
        try:
            add_user(conn, DEMO_OWNER, "owner", password)
        except Conflict:
            set_password(conn, DEMO_OWNER, password)
    return password


@app.command("demo")
def demo_command(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of store life to simulate.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed of the simulated store.")] = 7,
    start: Annotated[str | None, typer.Option(help="First simulated day (default: the last day is today).")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the app after the summary.")] = True,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Migrate the database, simulate a store through the engine, print the summary, serve the app.

    storeops decides each simulated day before the next: the simulated warehouse ships only the
    orders storeops sent it, and a simulated ops person (user:sim-ops) resolves the orders
    desk's handoffs a few hours after they arise, so held orders ship once approved."""
    with _errors():
        first_day = _has_happened(_start_day(start, days))
        application = _app(need_schema=False)
        upgrade(application.engine)
        with application.engine.begin() as conn:
            record_policy_version(conn, application.policy)
        _warm_up(application)
        worker = Worker(
            application.engine,
            application.registry,
            application.policy,
            connectors=application.connectors(),
            models=application.models,
        )
        new, duplicates = _simulate_into(application, days, seed, first_day, worker)
        err_console.print(f"decided {new:,} new events ({duplicates:,} were already stored from an earlier run)")
        with read_only(application.engine).connect() as conn:
            report = compute_report(
                conn,
                application.policy,
                desk_names=[d.name for d in application.desks],
                desk_figures=application.registry.figures(),
            )
        for table in report_tables(report):
            console.print(table)
        console.print(
            f"estimated time saved: [bold]{report.overall.time_saved_minutes / 60:,.1f} hours[/] "
            f"({report.overall.automatic:,} tasks automated); "
            f"{report.overall.handoffs_open:,} handoffs wait in the inbox"
        )
        if serve:
            password = _demo_owner(application)
            console.print(
                f"sign in at [bold]http://{host}:{port}/login[/] as [bold]{DEMO_OWNER}[/] "
                f"with password [bold]{password}[/]"
            )
            _serve(application, host, port, with_worker=True)
