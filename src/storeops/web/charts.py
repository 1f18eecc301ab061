"""Dashboard charts as inline SVG, drawn on the server with matplotlib (nothing loaded from a CDN)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from storeops.desks.returns.api import ReturnInsights, reason_words
from storeops.engine.metrics import DayFigures

AUTOMATIC = "#2f7d5b"
HANDOFF = "#d08a1e"
HUMAN = "#3b63b5"
# Typed loosely: matplotlib types rc keys as one long Literal.
_RC: Any = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    # Inline in the page: drop the XML prolog and doctype, keep the <svg> element.
    return presentation_attributes(text[text.index("<svg") :])


_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>\*\{([^}]*)\}</style>")


def presentation_attributes(svg: str) -> str:
    """``svg`` with its CSS (``style="fill: #fff"`` and matplotlib's ``<style>*{…}</style>``) as SVG
    presentation attributes (``fill="#fff"``), which the page's Content-Security-Policy allows
    where it refuses inline style. Every property matplotlib writes has an attribute of its name."""

    def attributes(declarations: str) -> str:
        pairs = (part.split(":", 1) for part in declarations.split(";") if ":" in part)
        return "".join(f' {name.strip()}="{html.escape(value.strip(), quote=True)}"' for name, value in pairs)

    defaults = _STYLE_ELEMENT.search(svg)
    if defaults is not None:
        svg = svg.replace(defaults.group(0), "")
        # The *{…} rule's properties are inherited ones: set on the root, every element gets them.
        svg = svg.replace("<svg ", f"<svg{attributes(defaults.group(1))} ", 1)
    return _STYLE_ATTRIBUTE.sub(lambda match: attributes(html.unescape(match.group(1))), svg)


def decisions_over_time(days: Sequence[DayFigures]) -> str:
    """Stacked daily bars: decided automatically, handed to a person, and people's actions."""
    with rc_context(_RC):
        figure = Figure(figsize=(7.5, 2.6))
        axes = figure.add_subplot()
        labels = [d.day[5:] for d in days]
        automatic = [d.automatic for d in days]
        handed = [d.handed_off for d in days]
        positions = range(len(days))
        axes.bar(positions, automatic, color=AUTOMATIC, label="automatic")
        axes.bar(positions, handed, bottom=automatic, color=HANDOFF, label="handed off")
        axes.plot(positions, [d.human for d in days], color=HUMAN, marker=".", label="people's actions")
        step = max(1, len(days) // 10)
        axes.set_xticks(list(positions)[::step], labels[::step])
        axes.set_ylabel("decisions per day")
        axes.legend(loc="upper left", frameon=False, ncols=3)
        return _svg(figure)


def handoffs_by_reason(reasons: Mapping[str, int], limit: int = 8) -> str:
    """Horizontal bars of the most frequent handoff reasons."""
    top = list(reasons.items())[:limit][::-1]
    with rc_context(_RC):
        figure = Figure(figsize=(7.5, 0.35 * max(len(top), 2) + 0.6))
        axes = figure.add_subplot()
        if top:
            axes.barh([name.replace("_", " ") for name, _ in top], [count for _, count in top], color=HANDOFF)
            axes.set_xlabel("handoffs")
        else:
            axes.text(0.5, 0.5, "no handoffs in this period", ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
        return _svg(figure)


REASON_COLOURS = {
    "size_fit": "#3b63b5",
    "damaged_defective": "#b33a3a",
    "not_as_described": "#d08a1e",
    "wrong_item": "#7b4fb0",
    "arrived_late": "#2f7d5b",
    "changed_mind": "#5a6475",
    "other": "#a8b3c4",
}
_MORE_COLOURS = ("#1b9aaa", "#c2549d", "#8c6d31", "#4d7c0f", "#9f1239")


def _colours(reasons: Sequence[str]) -> dict[str, str]:
    extra = iter(_MORE_COLOURS * (len(reasons) // len(_MORE_COLOURS) + 1))
    return {reason: REASON_COLOURS.get(reason) or next(extra) for reason in reasons}


_STORE_TEXT_RC: Any = {**_RC, "text.parse_math": False}
"""For charts labelled with the store's own text (SKUs, titles): a ``$`` is a dollar, not mathematics."""


def _label(text: str, limit: int = 28) -> str:
    """Text from the store as a chart label, shortened (matplotlib escapes it in the SVG)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty(axes: Any, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()


def return_reasons_by_product(insights: ReturnInsights) -> str:
    """One horizontal bar per SKU returned most (most at the top), split by the reasons given."""
    reasons = [reason.reason for reason in insights.reasons]
    colours = _colours(reasons)
    skus = list(insights.skus)[::-1]
    with rc_context(_STORE_TEXT_RC):
        figure = Figure(figsize=(7.5, 0.4 * max(len(skus), 2) + 1.0))
        axes = figure.add_subplot()
        if not skus:
            _empty(axes, "no returns in this period")
            return _svg(figure)
        names = [_label(f"{sku.sku} · {sku.title}" if sku.title else sku.sku) for sku in skus]
        left = [0] * len(skus)
        for reason in reasons:
            counts = [next((r.count for r in sku.reasons if r.reason == reason), 0) for sku in skus]
            axes.barh(names, counts, left=left, color=colours[reason], label=_label(reason_words(reason)))
            left = [a + b for a, b in zip(left, counts, strict=True)]
        axes.set_xlabel("returns")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, ncols=min(4, len(reasons)))
        return _svg(figure)


def returns_by_week(insights: ReturnInsights) -> str:
    """Returns asked for per week (from Monday), stacked by reason."""
    reasons = [reason.reason for reason in insights.reasons]
    colours = _colours(reasons)
    weeks = list(insights.weeks)
    with rc_context(_STORE_TEXT_RC):
        figure = Figure(figsize=(7.5, 2.6))
        axes = figure.add_subplot()
        if not reasons:
            _empty(axes, "no returns in this period")
            return _svg(figure)
        positions = range(len(weeks))
        bottom = [0] * len(weeks)
        for reason in reasons:
            counts = [week.reasons.get(reason, 0) for week in weeks]
            axes.bar(positions, counts, bottom=bottom, color=colours[reason], label=_label(reason_words(reason)))
            bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
        step = max(1, -(-len(weeks) // 8))  # at most 8 dates under the bars
        axes.set_xticks(list(positions)[::step], [f"{week.week:%d %b}" for week in weeks][::step])
        axes.set_ylabel("returns per week")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, ncols=min(4, len(reasons)))
        return _svg(figure)
