"""The vendors desk from the command line: import suppliers and contracts, print scorecards, make
the report (docs/vendors.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from storeops.cli.app import _app, _errors, _operator, vendor_contracts_app, vendors_app
from storeops.cli.output import console, print_json
from storeops.errors import InvalidInput


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file", field="file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})", field="file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field="file") from None


def _need_desk(names: object) -> None:
    if "vendors" not in names:  # type: ignore[operator]
        raise InvalidInput("this store runs without the vendors desk (STOREOPS_DESKS)", field="desks")


@vendors_app.command("import")
def vendors_import(
    file: Annotated[Path, typer.Argument(help="suppliers.csv: supplier, name, contact_*, currency, sku, cost, moq, …")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Import suppliers and their catalogues. A bad line is named (exit 2) and nothing is applied."""
    from storeops.commands.vendors import import_suppliers
    from storeops.desks.vendors.api import vendors_policy

    with _errors():
        text = _read(file)
        application = _app()
        _need_desk(application.registry.desks)
        counts = import_suppliers(
            application.engine, _operator(), text, source=file.name, policy=vendors_policy(application.policy)
        )
        if as_json:
            print_json(counts)
            return
        console.print(
            f"{counts['suppliers']} suppliers, {counts['catalogue_lines']} catalogue lines imported", highlight=False
        )


@vendor_contracts_app.command("import")
def contracts_import(
    file: Annotated[Path, typer.Argument(help="contracts.csv: contract, supplier, starts_on, ends_on, notice_days, …")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the contracts and their renewal days as JSON.")
    ] = False,
) -> None:
    """Import contracts (SLA targets, notice, price terms) and set each one's renewal timer. A bad
    line is named (exit 2) and nothing is applied."""
    from storeops.commands.vendors import import_contracts
    from storeops.desks.vendors.api import vendors_policy

    with _errors():
        text = _read(file)
        application = _app()
        _need_desk(application.registry.desks)
        done = import_contracts(
            application.engine, _operator(), text, vendors_policy(application.policy), source=file.name
        )
        if as_json:
            print_json(done)
            return
        for item in done:
            console.print(
                f"{item['contract']} ({item['supplier']}): ends {item['ends_on']}, "
                f"to a person on {item['renewal_due_on']}",
                highlight=False,
            )


@vendors_app.command("scorecard")
def vendors_scorecard(
    period: Annotated[str | None, typer.Option(help="The month, YYYY-MM (default: this month, UTC).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One object per supplier: each metric, its interval and SLA target.")
    ] = False,
) -> None:
    """Each supplier's scorecard for a month: on-time, fill and defect rates, lead time, cost variance,
    each with its count and interval, the weighted score and the standing."""
    from rich.table import Table

    from storeops.desks.vendors.api import month_of, monthly_scorecards, vendors_policy
    from storeops.storage.db import read_only

    with _errors():
        month = period or month_of(datetime.now(UTC))
        application = _app()
        _need_desk(application.registry.desks)
        with read_only(application.engine).connect() as conn:
            cards = monthly_scorecards(conn, vendors_policy(application.policy), month)
        if as_json:
            print_json(cards)
            return
        table = Table(title=f"Suppliers, {month}", title_justify="left")
        for column in ("supplier", "score", "standing", "deliveries", "on time", "fill", "defects", "lead time (d)"):
            table.add_column(column, justify="left" if column in ("supplier", "standing") else "right")
        for card in cards:
            m = card["metrics"]

            def rate(metric: dict[str, object]) -> str:
                interval = metric.get("interval")
                if metric.get("value") is None:
                    return "–"
                text = f"{metric['value']:.0%}"
                return f"{text} [{interval[0]:.0%}–{interval[1]:.0%}]" if isinstance(interval, list) else text

            lead = m["lead_time_days"]
            table.add_row(
                card["name"],
                "–" if card["score"] is None else f"{card['score']:.1f}",
                card["standing"] or "–",
                str(card["deliveries"]),
                rate(m["on_time_rate"]),
                rate(m["fill_rate"]),
                rate(m["defect_rate"]),
                "–" if lead["value"] is None else f"{lead['value']:.1f}",
            )
        console.print(table)


@vendors_app.command("report")
def vendors_report(
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or csv.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="The period: the last N days.")] = 7,
) -> None:
    """Make the vendors report on demand (the weekly one is mailed to [vendors] report_to)."""
    from storeops.desks.vendors.api import FORMATS, render, report_data, vendors_policy
    from storeops.storage.db import read_only

    with _errors():
        if fmt not in FORMATS:
            raise InvalidInput(f"--format {fmt!r} must be html, pdf or csv", field="format")
        application = _app()
        _need_desk(application.registry.desks)
        until = datetime.now(UTC)
        with read_only(application.engine).connect() as conn:
            data = report_data(
                conn,
                vendors_policy(application.policy),
                since=until - timedelta(days=days),
                until=until,
                title="Vendors report",
            )
        try:
            out.write_bytes(render(data, fmt))
        except OSError as exc:
            raise InvalidInput(f"--out {out}: {exc.strerror}", field="out") from None
        console.print(f"{out}: {fmt} report of {len(data['cards'])} suppliers, {data['period']}", highlight=False)
