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
