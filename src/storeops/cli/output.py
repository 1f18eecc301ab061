"""How the CLI prints: tables for people, stable JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from storeops.engine.metrics import Report

# Tables stay readable when piped (Rich would otherwise squeeze them into 80 columns).
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (the documented, stable form)."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _num(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.0f}{unit}"


def report_tables(report: Report) -> list[Table]:
    """The summary: per-desk figures, then handoffs by reason."""
    desks = Table(title="What happened, per desk", title_justify="left")
    for column in (
        "desk",
        "events",
        "automatic",
        "handed off",
        "unhandled",
        "dead",
        "automation",
        "p50 ms",
        "p99 ms",
        "time saved",
    ):
        desks.add_column(column, justify="left" if column == "desk" else "right")
    for row in [*report.desks, report.overall]:
        desks.add_row(
            row.desk if row.desk != "all" else "[bold]all[/]",
            f"{row.events:,}",
            f"{row.automatic:,}",
            f"{row.handed_off:,}",
            f"{row.unhandled:,}",
            f"{row.dead:,}",
            _pct(row.automation_rate),
            _num(row.decision_latency_ms_p50),
            _num(row.decision_latency_ms_p99),
            f"{row.time_saved_minutes / 60:,.1f} h",
        )
    reasons = Table(title="Handoffs by reason", title_justify="left")
    reasons.add_column("desk")
    reasons.add_column("reason")
    reasons.add_column("handoffs", justify="right")
    for row in report.desks:
        for reason, count in row.handoffs_by_reason.items():
            reasons.add_row(row.desk, reason, f"{count:,}")
    if not reasons.rows:
        reasons.add_row("–", "no handoffs yet", "0")
    return [desks, reasons]
