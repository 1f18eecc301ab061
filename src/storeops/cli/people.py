"""People who sign in and the API tokens of scripts, each change audited."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from storeops.accounts import (
    list_users,
    parse_role,
)
from storeops.cli.app import _app, _errors, _operator, tokens_app, users_app
from storeops.cli.output import console, err_console, print_json
from storeops.commands import people
from storeops.errors import InvalidInput
from storeops.storage.db import read_only

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
