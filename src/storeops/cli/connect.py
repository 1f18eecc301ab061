"""A live store in (``connect``), and the connectors out: ``connectors check``, dead outbox messages
and their re-runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from storeops.bootstrap import App
from storeops.cli.app import EXIT_FAILED, _app, _errors, _operator, _progress, app
from storeops.cli.output import console, fail, print_json
from storeops.commands import connect as connect_commands
from storeops.commands.connect import StorePages
from storeops.connectors.base import ConnectorError
from storeops.engine.outbox import dead_messages
from storeops.storage.db import read_only

connectors_app = typer.Typer(
    help="The connectors the outbox sends through, and its dead messages.", no_args_is_help=True
)
app.add_typer(connectors_app, name="connectors")


@contextmanager
def _remote_errors(what: str) -> Iterator[None]:
    """A remote's failure as one line and exit 1 (not a traceback)."""
    try:
        yield
    except ConnectorError as exc:
        fail(f"{what}: {exc.message}", EXIT_FAILED)


@app.command("connect")
def connect_command(
    source: Annotated[str, typer.Argument(help="shopify or woocommerce", show_default=False)],
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over instead of resuming where the last import stopped.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was imported as JSON.")] = False,
) -> None:
    """Import a live store: its catalogue, stock levels per location, customers and open orders,
    page by page, as its starting state (the same path as `ingest --backfill`). An interrupted
    import resumes at the next page when run again; nothing is stored twice. Then run
    `storeops work --until-idle` to record it."""
    with _errors(), _remote_errors(f"connect {source}"):
        application = _app()
        pages = connect_commands.store_pages(application, source)
        try:
            summary = _import(application, pages, source, restart=restart)
        finally:
            pages.close()
        if as_json:
            print_json({"source": source, "resources": summary})
            return
        for resource, counts in summary.items():
            if counts["already_done"]:
                console.print(f"{resource}: imported before (--restart to read it again)")
            else:
                console.print(
                    f"{resource}: {counts['events']:,} new events from {counts['pages']:,} pages"
                    f" ({counts['duplicates']:,} already stored)"
                )
        console.print("the store's starting state is queued; `storeops work --until-idle` records it")


def _import(application: App, pages: StorePages, source: str, *, restart: bool) -> dict[str, dict[str, Any]]:
    """Read the store with a progress bar per resource (its total when the store counts it)."""
    before = connect_commands.import_progress(application, source) if not restart else {}
    totals = pages.totals()
    with _progress() as progress:
        tasks: dict[str, Any] = {}
        for resource, _topic in pages.resources:
            done = bool(before.get(resource, {}).get("done"))
            total = totals.get(resource)
            tasks[resource] = progress.add_task(
                f"{resource}{' (imported before)' if done else ''}", total=total, completed=(total or 0) if done else 0
            )

        def advance(resource: str, items: int) -> None:
            progress.advance(tasks[resource], items)

        return connect_commands.connect_store(application, _operator(), pages, restart=restart, on_page=advance)


@connectors_app.command("check")
def check_command(as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False) -> None:
    """Try each configured connector (auth, reachability, API version): one line per connector.
    Exits 1 when one fails."""
    with _errors():
        results = connect_commands.check_connectors(_app())
        if as_json:
            print_json(results)
        else:
            for result in results:
                mark = "[green]ok[/green]  " if result["ok"] else "[red]FAIL[/red]"
                console.print(f"{mark} {result['connector']:<24} {result['detail']}", highlight=False)
        if not all(result["ok"] for result in results):
            raise typer.Exit(EXIT_FAILED)


@connectors_app.command("dead")
def dead_command(
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """Outbox messages that failed for good, with the remote's error."""
    with _errors():
        application = _app()
        with read_only(application.engine).connect() as conn:
            rows = dead_messages(conn, limit=limit)
        if as_json:
            print_json(rows)
            return
        if not rows:
            console.print("no dead outbox messages")
        for row in rows:
            first = (row["last_error"] or "").strip().splitlines()
            console.print(
                f"{row['id']:>6}  {row['connector']}/{row['action']}  {row['subject']}  "
                f"{row['attempts']} attempts: {first[0] if first else ''}",
                highlight=False,
            )


@connectors_app.command("rerun")
def rerun_command(
    message_id: Annotated[int, typer.Argument(help="The dead message's id.", show_default=False)],
) -> None:
    """Send a dead outbox message again with fresh attempts (after fixing its cause)."""
    with _errors():
        row = connect_commands.rerun_outbox_message(_app(), _operator(), message_id)
        console.print(f"outbox message {message_id} ({row['connector']}/{row['action']}) is queued again")
