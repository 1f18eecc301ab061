"""What every command shares: the Typer apps, one-line errors and exit codes, the app, progress bars."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import DBAPIError

from storeops.accounts import (
    Principal,
    Role,
)
from storeops.bootstrap import App, bootstrap
from storeops.cli.output import err_console, fail
from storeops.errors import DatabaseUnavailable, StoreopsError

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
returns_app = typer.Typer(help="The returns desk, from the command line.", no_args_is_help=True)
vendors_app = typer.Typer(help="The vendors desk: suppliers, contracts, scorecards, reports.", no_args_is_help=True)
vendor_contracts_app = typer.Typer(help="Supplier contracts and their SLA targets.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in to the web app, and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for the REST API, each scoped to a role.", no_args_is_help=True)
app.add_typer(handoffs_app, name="handoffs")
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(events_app, name="events")
app.add_typer(models_app, name="models")
app.add_typer(support_app, name="support")
app.add_typer(returns_app, name="returns")
app.add_typer(vendors_app, name="vendors")
vendors_app.add_typer(vendor_contracts_app, name="contracts")
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


def _warm_up(application: App) -> None:
    """Load the support models before a worker starts (building the default on a machine that
    has none), so no message waits for it inside a transaction."""
    from storeops.bootstrap import warm_up

    warm_up(application)
