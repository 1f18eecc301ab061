"""``storeops``: every command people and scripts use. Run ``storeops --help``."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from storeops import untrusted
from storeops.accounts import (
    Principal,
    Role,
    add_user,
    list_users,
    parse_role,
    set_password,
)
from storeops.bootstrap import App, bootstrap
from storeops.bounds import bounded_utc
from storeops.cli.output import console, err_console, fail, print_json, report_tables
from storeops.commands import events as event_commands
from storeops.commands import handoffs as handoff_commands
from storeops.commands import people
from storeops.connectors.base import Connector
from storeops.engine.audit import read_audit
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.inbox import Resolution, list_handoffs
from storeops.engine.metrics import compute_report
from storeops.engine.policy import policy_defaults_dict, record_policy_version
from storeops.engine.queue import event_states, ingest, list_events
from storeops.engine.worker import Worker
from storeops.errors import Conflict, DatabaseUnavailable, InvalidInput, StoreopsError
from storeops.storage.db import read_only
from storeops.storage.migrate import upgrade
from storeops.storage.schema import handoffs as handoff_table

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_DATABASE = 3

app = typer.Typer(
    help="storeops runs a store's back office: automation handles the routine, people decide the exceptions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
handoffs_app = typer.Typer(help="The inbox of cases automation handed to people.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
policy_app = typer.Typer(help="Thresholds and switches (storeops.toml).", no_args_is_help=True)
events_app = typer.Typer(help="The event queue: dead letters and re-runs.", no_args_is_help=True)
models_app = typer.Typer(help="Models trained on the store's own decisions.", no_args_is_help=True)
support_app = typer.Typer(help="The support desk, from the command line.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in to the web app, and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for the REST API, each scoped to a role.", no_args_is_help=True)
app.add_typer(handoffs_app, name="handoffs")
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(events_app, name="events")
app.add_typer(models_app, name="models")
app.add_typer(support_app, name="support")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

T = TypeVar("T")


_opened: list[App] = []


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every deliberate error into one line on stderr and its exit code; close what the
    command opened."""
    try:
        yield
    except DatabaseUnavailable as exc:
        fail(exc.message, EXIT_DATABASE)
    except StoreopsError as exc:
        fail(exc.message, EXIT_BAD_INPUT)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        fail(f"database error: {reason}", EXIT_DATABASE)
    finally:
        while _opened:
            _opened.pop().engine.dispose()


def _app(*, need_schema: bool = True, check: bool = True) -> App:
    application = bootstrap(need_schema=need_schema, check=check)
    _opened.append(application)
    return application


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def _actor(name: str | None) -> str:
    return f"user:{name or os.environ.get('USER') or getpass.getuser()}"


def _operator(name: str | None = None) -> Principal:
    """Who acts from the command line: whoever may run storeops on the store's machine is its owner."""
    return Principal(actor=_actor(name), role=Role.OWNER)


# --- db, policy -------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema of STOREOPS_DATABASE_URL (default ./storeops.db)."""
    with _errors():
        application = _app(need_schema=False)
        upgrade(application.engine)
        console.print(f"database {application.engine.url.render_as_string(hide_password=True)} is up to date")


@policy_app.command("check")
def policy_check() -> None:
    """Validate the policy file and print its digest; exit 2 naming the key when it is wrong."""
    with _errors():
        application = _app(check=False)
        console.print(f"policy OK ({application.policy.source}), digest {application.policy.digest[:12]}")


@policy_app.command("set")
def policy_set(
    key: Annotated[str, typer.Argument(metavar="SECTION.KEY", help="e.g. orders.high_value_threshold")],
    value: Annotated[str, typer.Argument(help="The value in TOML syntax, e.g. '\"750.00\"' or 0.8.")],
) -> None:
    """Change one policy value: validated against every desk's policy, written to the policy file
    with its comments kept, versioned and audited; running workers pick it up within a second."""
    from storeops.commands.policy import change_policy

    with _errors():
        section, dot, name = key.partition(".")
        if not dot or not section or not name:
            raise InvalidInput(f"{key!r}: say SECTION.KEY, e.g. orders.high_value_threshold", field="key")
        application = _app()
        version = change_policy(application, _operator(), section, name, value)
        console.print(f"[{section}] {name} saved in {application.policy_path}; policy version {version}")


@policy_app.command("show")
def policy_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    defaults: Annotated[bool, typer.Option("--defaults", help="Every key with its default and meaning.")] = False,
) -> None:
    """Print the effective policy (defaults filled in)."""
    with _errors():
        application = _app(check=False)
        data: dict[str, Any] = policy_defaults_dict(application.desks) if defaults else application.policy.as_dict()
        if as_json:
            print_json(data)
            return
        for section, values in data.items():
            console.print(f"[bold]\\[{section}][/]")
            for key, value in values.items():
                console.print(f"  {key} = {json.dumps(value, default=str)}", highlight=False, markup=False)


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


@app.command("desks")
def desks_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/cli.md).")] = False) -> None:
    """The desks this store runs: the event kinds each defines and the kinds each subscribes to."""
    with _errors():
        application = _app(check=False)
        described = application.registry.describe()
        if as_json:
            print_json(described)
            return
        for desk in described:
            console.print(f"[bold]{desk['desk']}[/] (for {desk['default_role']})", highlight=False)
            console.print(f"  defines:    {', '.join(desk['defines']) or '—'}", highlight=False)
            console.print(f"  subscribes: {', '.join(desk['subscribes']) or '—'}", highlight=False)


# --- the worker ------------------------------------------------------------------------------


def _pending(application: App, kind: str | None = None) -> int:
    query = select(func.count()).select_from(event_states).where(event_states.c.status == "pending")
    if kind is not None:
        query = query.where(event_states.c.kind == kind)
    with read_only(application.engine).connect() as conn:
        return int(conn.execute(query).scalar_one())


def _work_until_idle(
    application: App, batch: int | None, connectors: dict[str, Connector], *, label: str = "deciding"
) -> Worker:
    worker = Worker(
        application.engine,
        application.registry,
        application.policy,
        connectors=connectors,
        batch_size=batch,
        models=application.models,
    )
    total = _pending(application)
    with _progress() as progress:
        task = progress.add_task(label, total=total or None)
        worker.run(until_idle=True, on_batch=lambda b: progress.advance(task, b.done + b.unhandled + b.dead))
    return worker


@app.command("work")
def work_command(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop when no event is due.")] = False,
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
) -> None:
    """Run a worker: claim events, run the desks, record decisions, send the outbox. Any number of
    workers may run at once on PostgreSQL; SIGTERM finishes the batch in hand and exits."""
    with _errors():
        application = _app()
        connectors = application.connectors() if outbox else {}
        if not until_idle or _pending(application, kind="ticket.message_received"):
            _warm_up(application)
        if until_idle:
            worker = _work_until_idle(application, batch, connectors)
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
            )
            worker.install_signal_handlers()
            err_console.print(f"worker {worker.name} running (Ctrl-C to stop)")
            worker.run()
        stats = worker.stats
        console.print(
            f"handled {stats.done:,} events, {stats.unhandled:,} unhandled, {stats.failed:,} failed "
            f"({stats.dead:,} dead-lettered), {stats.outbox_sent:,} outbox messages sent"
        )


# --- people's side ------------------------------------------------------------------------------

ROLES_HELP = "owner, ops, support, finance, marketing or procurement"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise InvalidInput("the two passwords differ", field="password")
    return str(first)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The person's email; they sign in with it.")],
    role: Annotated[str, typer.Option(help=f"What they do: {ROLES_HELP}.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin instead of prompting.")
    ] = False,
) -> None:
    """Add a person who signs in at /login; their role decides which handoffs they see."""
    with _errors():
        application = _app()
        password = _read_password(password_stdin)
        people.add_user(application, _operator(), email, role, password)
        console.print(f"added {email.strip().lower()} as {parse_role(role).value}")


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every user with role (never a password hash)."""
    with _errors():
        application = _app()
        with read_only(application.engine).connect() as conn:
            rows = list_users(conn)
        if as_json:
            print_json(rows)
            return
        for row in rows:
            disabled = "  (disabled)" if row["disabled_at"] else ""
            console.print(f"{row['email']:<40} {row['role']:<12} since {str(row['created_at'])[:10]}{disabled}")
        if not rows:
            console.print("no users yet; add one with: storeops users add EMAIL --role owner")


@users_app.command("passwd")
def users_passwd(
    email: Annotated[str, typer.Argument(help="Whose password.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read it from stdin.")] = False,
) -> None:
    """Set a new password (signs the person out everywhere)."""
    with _errors():
        application = _app()
        password = _read_password(password_stdin)
        people.set_password(application, _operator(), email, password)
        console.print(f"password of {email} changed; their sessions ended")


@users_app.command("disable")
def users_disable(email: Annotated[str, typer.Argument(help="Who may no longer sign in.")]) -> None:
    """Refuse a person's sign-in and end their sessions (their past actions stay in the audit log)."""
    with _errors():
        application = _app()
        people.set_access(application, _operator(), email, disabled=True)
        console.print(f"{email} disabled and signed out")


@users_app.command("enable")
def users_enable(email: Annotated[str, typer.Argument(help="Who may sign in again.")]) -> None:
    """Let a disabled person sign in again."""
    with _errors():
        application = _app()
        people.set_access(application, _operator(), email, disabled=False)
        console.print(f"{email} enabled")


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help=f"What the token may do: {ROLES_HELP}.")],
    name: Annotated[str, typer.Option(help="What it is for (shown in the audit log as token:NAME).")] = "api",
) -> None:
    """Create an API token; it is printed once and stored only as a digest."""
    with _errors():
        application = _app()
        secret = people.create_token(application, _operator(), role, name)
        err_console.print(f"token {name!r} for role {parse_role(role).value}; send it as 'Authorization: Bearer …'")
        print(secret)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke every live token with this name."""
    with _errors():
        application = _app()
        count = people.revoke_token(application, _operator(), name)
        console.print(f"revoked {count} token{'s' if count != 1 else ''} named {name!r}")


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
            help='Go ahead with changes, e.g. \'{"shipping_address": {"postal_code": "69001"}}\'.',
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why; kept in the audit log.")] = None,
    actor: Annotated[str | None, typer.Option("--as", help="Who resolves (default: the login name).")] = None,
) -> None:
    """Resolve a handoff; its desk resumes from the resolution through the event queue."""
    with _errors():
        if [approve, reject, modify is not None].count(True) != 1:
            raise InvalidInput("say exactly one of --approve, --reject or --modify JSON")
        changes = None
        if modify is not None:
            try:
                changes = json.loads(modify)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"--modify: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(changes, dict) or not changes:
                raise InvalidInput('--modify takes a JSON object of changes, e.g. {"shipping_address": {...}}')
        resolution = Resolution.MODIFY if changes else Resolution.APPROVE if approve else Resolution.REJECT
        application = _app()
        handoff_commands.resolve(application, _operator(actor), handoff_id, resolution, note=note, changes=changes)
        done = {Resolution.APPROVE: "approved", Resolution.REJECT: "rejected", Resolution.MODIFY: "modified"}
        console.print(f"handoff {handoff_id} {done[resolution]}; the desk resumes on the next worker run")


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


def _status(application: App) -> dict[str, Any]:
    from storeops.bootstrap import model_status
    from storeops.storage.migrate import revisions

    engine = application.engine
    current, head = revisions(engine)
    data: dict[str, Any] = {
        "database": {
            "url": engine.url.render_as_string(hide_password=True),
            "kind": engine.dialect.name,
            "schema_revision": current,
            "head_revision": head,
            "up_to_date": current == head,
        },
        "policy": {"source": application.policy.source, "digest": application.policy.digest},
        "events": {"pending": None, "dead": None},
        "handoffs": {"open": None, "by_desk": {}},
        "desks": [],
    }
    if current is not None:
        with read_only(engine).connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(event_states.c.status, func.count())
                    .where(event_states.c.status.in_(("pending", "dead")))
                    .group_by(event_states.c.status)
                ).all()
            )
            by_desk: dict[str, int] = dict(
                conn.execute(
                    select(handoff_table.c.desk, func.count())
                    .where(handoff_table.c.state.in_(("open", "claimed")))
                    .group_by(handoff_table.c.desk)
                    .order_by(handoff_table.c.desk)
                ).all()
            )
        data["events"] = {"pending": int(counts.get("pending", 0)), "dead": int(counts.get("dead", 0))}
        data["handoffs"] = {"open": sum(by_desk.values()), "by_desk": {k: int(v) for k, v in by_desk.items()}}
    models = model_status(application)
    data["desks"] = [{"desk": desk.name, "models": models.get(desk.name, [])} for desk in application.desks]
    return data


ORIGINS = {"store": "store-trained", "default": "default, from the shipped data", "rules": "rules"}


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON object (docs/cli.md).")] = False,
) -> None:
    """What this store runs on: the database and its schema, waiting events and handoffs, and the
    models each desk decides with (store-trained or default, version, date). Loads nothing."""
    with _errors():
        data = _status(_app(need_schema=False))
        if as_json:
            print_json(data)
            return
        db = data["database"]
        schema = (
            "no schema yet: run storeops db upgrade"
            if db["schema_revision"] is None
            else f"schema {db['schema_revision']}" + ("" if db["up_to_date"] else f", behind {db['head_revision']}")
        )
        console.print(f"database  {db['url']} ({db['kind']}), {schema}", highlight=False, soft_wrap=True)
        console.print(f"policy    {data['policy']['source']}, digest {data['policy']['digest'][:12]}", highlight=False)
        if db["schema_revision"] is not None:
            console.print(
                f"events    {data['events']['pending']:,} pending, {data['events']['dead']:,} dead", highlight=False
            )
            waiting = ", ".join(f"{desk} {n:,}" for desk, n in data["handoffs"]["by_desk"].items())
            console.print(
                f"handoffs  {data['handoffs']['open']:,} open" + (f" ({waiting})" if waiting else ""), highlight=False
            )
        for desk in data["desks"]:
            for model in desk["models"]:
                when = f", trained {model['trained_at'][:19]}Z" if model["trained_at"] else ""
                origin = ORIGINS.get(model["source"], model["source"])
                line = f"{desk['desk']:<9} {model['name']} {model['version']} ({origin}{when})"
                if model["note"]:
                    line += f"; {model['note']}"
                console.print(line, highlight=False, markup=False, soft_wrap=True)


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


class ModelName(StrEnum):
    orders_risk = "orders-risk"
    support_nlu = "support-nlu"


@models_app.command("train")
def models_train(
    name: Annotated[ModelName, typer.Argument(help="Which model.")],
    min_each: Annotated[int, typer.Option(min=2, help="Fewest approved and rejected orders to train on.")] = 10,
    default: Annotated[
        bool,
        typer.Option(
            "--default",
            help="support-nlu only: build the machine-wide default in STOREOPS_CACHE_DIR (once per release and "
            "scikit-learn; a build step for images) instead of the store's own.",
        ),
    ] = False,
) -> None:
    """Train a model and make it current; its version is recorded on every decision it makes.

    orders-risk learns from people's resolutions (approved order = legitimate, rejected = fraud);
    support-nlu learns intents and sentiment from the data storeops ships — without it a store
    answers with the default built from the same data (storeops status shows which)."""
    import time

    with _errors():
        if default and name is not ModelName.support_nlu:
            raise InvalidInput("--default goes with support-nlu: orders-risk is learnt from the store's own orders")
        if default:
            from storeops.desks.support.models import default_models, default_path
            from storeops.settings import load_settings

            cache_dir = load_settings().cache_dir
            started = time.perf_counter()
            models = default_models(cache_dir, report=lambda line: err_console.print(line, highlight=False))
            console.print(
                f"support-nlu {models.version} is ready at {default_path(cache_dir)} "
                f"({time.perf_counter() - started:.1f} s)",
                highlight=False,
            )
            return
        application = _app()
        started = time.perf_counter()
        if name is ModelName.support_nlu:
            path, summary = _train_support(application)
        else:
            from storeops.desks.orders.training import train_from_resolutions

            where = application.engine.url.render_as_string(hide_password=True)
            err_console.print(f"training {name.value} from resolved order handoffs in {where} …")
            with read_only(application.engine).connect() as conn:
                model, data = train_from_resolutions(conn, min_each=min_each)
            path = model.save(application.settings.models_dir)
            summary = f"version {model.version} on {data.rejected} rejected and {data.approved} approved orders"
        console.print(
            f"trained {name.value} {summary} in {time.perf_counter() - started:.1f} s; saved to {path} and made current"
        )


def _train_support(application: App) -> tuple[Path, str]:
    from storeops.desks.support.nlu import train_support_models

    err_console.print(
        "training support-nlu: intents on 6,480 Bitext utterances, sentiment on 2,000 UCI review sentences "
        "plus Bitext requests (about 30 s) …"
    )
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    models = train_support_models(version)
    return models.save(application.settings.models_dir), f"version {version}"


def _warm_up(application: App) -> None:
    """Load the support models before a worker starts (building the default on a machine that
    has none), so no message waits for it inside a transaction."""
    from storeops.bootstrap import warm_up

    warm_up(application)


@support_app.command("poll-imap")
def support_poll_imap(
    host: Annotated[str, typer.Option(help="The IMAP server of the support mailbox.")],
    user: Annotated[str, typer.Option(help="The mailbox's login; the password comes from STOREOPS_IMAP_PASSWORD.")],
    port: Annotated[int, typer.Option(min=1, max=65535)] = 993,
    ssl: Annotated[bool, typer.Option("--ssl/--no-ssl", help="TLS (the default) or plain IMAP.")] = True,
    folder: Annotated[str, typer.Option(help="The folder to read.")] = "INBOX",
    every: Annotated[
        int, typer.Option(min=0, max=86400, help="Poll again every N seconds until stopped (0: once).")
    ] = 0,
) -> None:
    """Read the mailbox's unseen emails as support messages (threaded like `ingest email`), then mark them seen."""
    import time

    from storeops.connectors.imap_inbound import connect, poll

    with _errors():
        application = _app()
        password = application.settings.imap_password
        if not password:
            raise InvalidInput("set STOREOPS_IMAP_PASSWORD to the mailbox's password", field="imap_password")

        def store(new: list[NewEvent]) -> tuple[int, int]:
            parsed = [parse_new_event(e.model_dump(mode="json"), application.registry.payload_models) for e in new]
            with application.engine.begin() as conn:
                result = ingest(conn, parsed, routes=application.registry)
            return len(result.ids), result.duplicates

        while True:
            outcome = poll(connect(host, port, ssl=ssl), user, password, store, folder=folder)
            console.print(
                f"{outcome.fetched} emails read: {outcome.stored} new messages, {outcome.duplicates} already stored"
                + (f", {len(outcome.unreadable)} unreadable" if outcome.unreadable else "")
            )
            for problem in outcome.unreadable:
                err_console.print(f"  not a readable message: {problem}")
            if not every:
                break
            time.sleep(every)


@support_app.command("ask")
def support_ask(
    text: Annotated[str, typer.Option(help="The customer's message.")],
    email: Annotated[str | None, typer.Option(help="The customer's email (proves which orders are theirs).")] = None,
    order: Annotated[str | None, typer.Option(help="An order number the message is about.")] = None,
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer (docs/cli.md).")] = False,
) -> None:
    """Ask the support desk as a customer would and print its answer (runs a worker in-process)."""
    from storeops.desks.support.conversation import ask

    with _errors():
        application = _app()
        _warm_up(application)
        worker = Worker(application.engine, application.registry, application.policy, models=application.models)
        result = ask(
            application.engine,
            application.registry,
            wait_seconds=30,
            work=lambda: worker.run(until_idle=True),
            text=text,
            email=email,
            order_number=order,
            conversation=conversation,
            channel="api",
            source="cli",
        )
        if as_json:
            print_json(result)
            return
        console.print(result["reply"] or "(no answer yet)", highlight=False, markup=False)
        if result["handoff"]:
            console.print(f"handed to a person: {', '.join(result['handoff']['reasons'])}", highlight=False)


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


def main() -> None:
    """Entry point of the ``storeops`` script."""
    app()


__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
