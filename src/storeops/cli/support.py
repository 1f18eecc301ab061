"""The support desk from the command line: reading a mailbox, asking as a customer."""

from __future__ import annotations

from typing import Annotated

import typer

from storeops.cli.app import _app, _errors, _warm_up, support_app
from storeops.cli.output import console, err_console, print_json
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.queue import ingest
from storeops.engine.worker import Worker
from storeops.errors import InvalidInput


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
