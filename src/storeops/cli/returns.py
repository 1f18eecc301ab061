"""The returns desk from the command line: ask for a return as a customer would, report a parcel back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from storeops.cli.app import _app, _errors, returns_app
from storeops.cli.output import console, print_json
from storeops.engine.worker import Worker
from storeops.errors import InvalidInput


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--at {value!r} is not an ISO 8601 time (2026-11-30T14:00:00Z)", field="at") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"--at {value!r} needs a time zone (Z or +01:00)", field="at")
    return moment.astimezone(UTC)


def _show(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    handoff = result.get("handoff")
    console.print(
        f"{result['rma']}: {result['state']} — reason {result['reason_category'] or 'unknown'}, "
        f"refund {result['refund_minor']} {result['currency']} minor units",
        highlight=False,
    )
    if isinstance(handoff, dict):
        console.print(f"handed to a person (#{handoff['id']}): {', '.join(handoff['reasons'])}", highlight=False)


@returns_app.command("request")
def returns_request(
    email: Annotated[str, typer.Option(help="The customer's email (proves the order is theirs).")],
    order: Annotated[str, typer.Option(help="The order number the customer sees (1001 or #1001).")],
    sku: Annotated[list[str], typer.Option(help="A SKU to send back (repeat for several, with --qty each).")],
    qty: Annotated[list[int], typer.Option(min=1, help="How many of the --sku in the same position.")],
    reason: Annotated[str, typer.Option(help="Why, in the customer's words.")] = "",
    exchange: Annotated[
        list[str] | None,
        typer.Option(help="The SKU to send instead of a refund, one per --sku in the same position ('-': a refund)."),
    ] = None,
    at: Annotated[str | None, typer.Option(help="When the customer asked (ISO 8601; default now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the return as JSON (docs/returns.md).")] = False,
) -> None:
    """Ask for a return as the customer would and print the desk's decision (runs a worker in-process)."""
    from storeops.desks.returns.front import return_json, submit_request, wait_for

    with _errors():
        if len(sku) != len(qty):
            raise InvalidInput(f"give one --qty per --sku ({len(sku)} SKUs, {len(qty)} quantities)", field="qty")
        swaps = list(exchange or [])
        if swaps and len(swaps) != len(sku):
            raise InvalidInput(
                f"give one --exchange per --sku ('-' for a refund): {len(sku)} SKUs, {len(swaps)} exchanges",
                field="exchange",
            )
        application = _app()
        worker = Worker(application.engine, application.registry, application.policy, models=application.models)
        event_id, rma = submit_request(
            application.engine,
            application.registry,
            email=email,
            order_number=order,
            lines=list(zip(sku, qty, strict=True)),
            exchange=[None if swap in ("", "-") else swap for swap in swaps] or None,
            reason=reason,
            channel="cli",
            at=_at(at),
        )
        _done, handoff = wait_for(
            application.engine, event_id, wait_seconds=60, work=lambda: worker.run(until_idle=True)
        )
        result = return_json(application.engine, rma, handoff)
        if result is None:
            raise InvalidInput(f"the request {rma} could not be decided: see storeops events dead", field="order")
        _show(result, as_json)


@returns_app.command("receive")
def returns_receive(
    rma: Annotated[str, typer.Argument(help="The return's number (R-…).")],
    condition: Annotated[str, typer.Option(help="What the inspection found: new, opened, damaged, worn or empty.")],
    note: Annotated[str | None, typer.Option(help="What the inspector noticed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the return as JSON.")] = False,
) -> None:
    """Report a return's parcel back and inspected; prints what the desk did (refund, or a person)."""
    from storeops.desks.returns.front import return_json, submit_receipt, wait_for

    with _errors():
        if condition not in ("new", "opened", "damaged", "worn", "empty"):
            raise InvalidInput(
                f"--condition {condition!r} must be new, opened, damaged, worn or empty", field="condition"
            )
        application = _app()
        if return_json(application.engine, rma) is None:
            raise InvalidInput(f"no return {rma}", field="rma")
        worker = Worker(application.engine, application.registry, application.policy, models=application.models)
        event_id = submit_receipt(application.engine, application.registry, rma=rma, condition=condition, note=note)
        _done, handoff = wait_for(
            application.engine, event_id, wait_seconds=60, work=lambda: worker.run(until_idle=True)
        )
        result = return_json(application.engine, rma, handoff)
        assert result is not None
        _show(result, as_json)


@returns_app.command("report")
def returns_report(
    days: Annotated[int, typer.Option(min=1, max=3650, help="The period: the last N days.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON (docs/returns.md).")] = False,
) -> None:
    """Why returns happen, the weekly report: returns and their rate, the top reasons overall and per
    product, and the findings (a reason spiking on one product). Run it from cron for a weekly mail."""
    from datetime import timedelta

    from rich.table import Table

    from storeops.desks.returns.api import reason_words, why_returns_happen
    from storeops.storage.db import read_only

    with _errors():
        application = _app()
        if "returns" not in application.registry.desks:
            raise InvalidInput("this store runs without the returns desk (STOREOPS_DESKS)", field="desks")
        until = datetime.now(UTC)
        with read_only(application.engine).connect() as conn:
            seen = why_returns_happen(conn, since=until - timedelta(days=days), until=until)
        if as_json:
            print_json(seen.as_json())
            return
        rate = f"{seen.return_rate:.1%}" if seen.return_rate is not None else "–"
        console.print(
            f"Returns in the last {days} days: {seen.returns:,} ({rate} of {seen.orders_shipped:,} orders shipped)",
            highlight=False,
        )
        reasons = Table(title="Why", title_justify="left")
        for column in ("reason", "returns", "share"):
            reasons.add_column(column, justify="left" if column == "reason" else "right")
        for reason in seen.reasons:
            reasons.add_row(reason_words(reason.reason), f"{reason.count:,}", f"{reason.share:.0%}")
        console.print(reasons)
        products = Table(title="Products returned most", title_justify="left")
        for column in ("SKU", "returns", "top reasons"):
            products.add_column(column, justify="right" if column == "returns" else "left")
        for sku in seen.skus:
            top = ", ".join(f"{reason_words(r.reason)} {r.share:.0%}" for r in sku.reasons[:3])
            products.add_row(sku.sku, f"{sku.returns:,}", top)
        console.print(products)
        if not seen.findings:
            console.print("No reason is spiking on any product.", highlight=False)
        for finding in seen.findings:
            console.print(f"Finding: {finding.text}", highlight=False, markup=False)
