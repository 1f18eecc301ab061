"""The people's side from the shell: handoffs, the audit log and the owner's report."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from storeops.bounds import bounded_utc
from storeops.cli.app import EXIT_BAD_INPUT, _actor, _app, _errors, _operator, app, handoffs_app
from storeops.cli.output import console, fail, print_json, report_tables
from storeops.commands import handoffs as handoff_commands
from storeops.engine.audit import read_audit
from storeops.engine.inbox import Resolution, list_handoffs
from storeops.engine.metrics import compute_report
from storeops.errors import InvalidInput
from storeops.storage.db import read_only


class StateFilter(StrEnum):
    open = "open"
    claimed = "claimed"
    resolved = "resolved"
    expired = "expired"
    all = "all"


@handoffs_app.command("list")
def handoffs_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON array (docs/cli.md).")] = False,
    state: Annotated[
        StateFilter, typer.Option(help="open (with claimed), claimed, resolved, expired or all.")
    ] = StateFilter.open,
    desk: Annotated[str | None, typer.Option(help="Only this desk's handoffs.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 100,
) -> None:
    """List handoffs, oldest first (open ones by default)."""
    with _errors():
        application = _app()
        with read_only(application.engine).connect() as conn:
            rows = list_handoffs(conn, state=None if state is StateFilter.all else state.value, desk=desk, limit=limit)
        if as_json:
            print_json(rows)
            return
        if not rows:
            console.print("no handoffs")
            return
        from rich.table import Table

        table = Table()
        for column in ("id", "desk", "subject", "reasons", "state", "role", "due"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                str(row["id"]),
                row["desk"],
                row["subject"],
                ", ".join(row["reasons"]),
                row["state"],
                row["role"],
                row["due_at"][:16],
            )
        console.print(table)


@handoffs_app.command("claim")
def handoffs_claim(
    handoff_id: Annotated[int, typer.Argument(help="The handoff's id.")],
    actor: Annotated[str | None, typer.Option("--as", help="Who takes it (default: the login name).")] = None,
) -> None:
    """Take a handoff so nobody else works on it (exit 2 when someone already has)."""
    with _errors():
        application = _app()
        handoff_commands.claim(application, _operator(actor), handoff_id)
        console.print(f"handoff {handoff_id} claimed by {_actor(actor)}")


@handoffs_app.command("resolve")
def handoffs_resolve(
    handoff_id: Annotated[int, typer.Argument(help="The handoff's id.")],
    approve: Annotated[bool, typer.Option("--approve", help="Go ahead as suggested.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Do not go ahead.")] = False,
    modify: Annotated[
        str | None,
        typer.Option(
            "--modify",
            metavar="JSON",
            help='Go ahead with changes (docs/resolutions.md), e.g. \'{"drop_lines": ["MUG"]}\'.',
        ),
    ] = None,
    reply: Annotated[
        str | None, typer.Option(help="A support reply to send instead of the suggested one (with --approve).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why; kept in the audit log.")] = None,
    actor: Annotated[str | None, typer.Option("--as", help="Who resolves (default: the login name).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"id", "state", "effects", "refused"} (docs/cli.md).')
    ] = False,
) -> None:
    """Resolve a handoff: its desk checks the resolution, carries it out, and says what it did.
    Exit 2 when it is refused (the order shipped meanwhile, a change the reason does not take)."""
    with _errors():
        if reply is not None and not (reject or modify is not None):
            approve = True
        if [approve, reject, modify is not None].count(True) != 1:
            raise InvalidInput("say exactly one of --approve, --reject or --modify JSON")
        changes = None
        if modify is not None:
            try:
                changes = json.loads(modify)
            except json.JSONDecodeError as exc:
                raise InvalidInput(
                    f"--modify: not valid JSON ({exc.msg} at column {exc.colno})", field="changes"
                ) from None
            if not isinstance(changes, dict) or not changes:
                raise InvalidInput(
                    '--modify takes a JSON object of changes, e.g. {"shipping_address": {...}}', field="changes"
                )
        resolution = Resolution.MODIFY if modify is not None else Resolution.APPROVE if approve else Resolution.REJECT
        application = _app()
        outcome = handoff_commands.resolve(
            application, _operator(actor), handoff_id, resolution, note=note, changes=changes, reply=reply
        )
        if as_json:
            print_json(outcome.as_json())
        else:
            done = {Resolution.APPROVE: "approved", Resolution.REJECT: "rejected", Resolution.MODIFY: "modified"}
            console.print(f"handoff {handoff_id} {done[resolution]}", highlight=False)
            for effect in outcome.effects:
                console.print(f"  {effect}", highlight=False, markup=False)
            if outcome.pending:
                console.print("  the desk carries it out on the next worker run", highlight=False)
        if outcome.refused:
            fail(f"handoff {handoff_id}: refused: {outcome.refused}", EXIT_BAD_INPUT)


@app.command("audit")
def audit_command(
    subject: Annotated[str | None, typer.Option(help="Only this subject, e.g. order:sim:7-1042.")] = None,
    desk: Annotated[str | None, typer.Option(help="Only this desk.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON array (docs/cli.md).")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000000)] = 200,
) -> None:
    """Show the audit log, oldest first: who or what acted, why, with what evidence."""
    with _errors():
        application = _app()
        with read_only(application.engine).connect() as conn:
            rows = read_audit(conn, subject=subject, desk=desk, limit=limit)
        if as_json:
            print_json(rows)
            return
        for row in rows:
            reasons = f" [{', '.join(row['reasons'])}]" if row["reasons"] else ""
            console.print(
                f"{row['occurred_at'][:19]}  {row['actor']:<28} {row['subject']:<28} {row['action']}{reasons}",
                highlight=False,
            )
        if not rows:
            console.print("no audit entries")


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return bounded_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise InvalidInput(f"--{name}: {exc}; use e.g. 2026-01-31T00:00:00Z") from None


@app.command("report")
def report_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/cli.md).")] = False,
    since: Annotated[str | None, typer.Option(help="Start of the period (ISO 8601 with offset).")] = None,
    until: Annotated[str | None, typer.Option(help="End of the period (ISO 8601 with offset).")] = None,
) -> None:
    """Per-desk figures: events, automation rate, handoffs by reason, latency, time saved.

    The period goes by when things happened (an event's own time), not when storeops recorded
    them, so a replayed or imported history is reported on its own days."""
    with _errors():
        application = _app()
        start, end = _parse_time(since, "since"), _parse_time(until, "until")
        with read_only(application.engine).connect() as conn:
            report = compute_report(
                conn,
                application.policy,
                since=start,
                until=end,
                desk_names=[d.name for d in application.desks],
                desk_figures=application.registry.figures(),
            )
        if as_json:
            print_json(report.as_dict())
            return
        for table in report_tables(report):
            console.print(table)
