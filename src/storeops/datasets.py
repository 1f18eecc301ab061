"""The public data sets storeops ships (with their licences in ``storeops/data``)."""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files


@cache
def bitext_utterances() -> list[tuple[str, str, str]]:
    """Bitext customer-service utterances as (intent, category, text) — CDLA-Sharing-1.0."""
    path = files("storeops").joinpath("data/bitext_utterances.csv")
    with path.open(encoding="utf-8") as handle:
        return [(row["intent"], row["category"], row["text"]) for row in csv.DictReader(handle)]


@cache
def sentiment_sentences(source: str = "amazon") -> list[tuple[str, int]]:
    """UCI labelled sentences as (text, 1 positive / 0 negative); source amazon or yelp — CC BY 4.0."""
    name = {"amazon": "amazon_cells_labelled.txt", "yelp": "yelp_labelled.txt"}[source]
    out = []
    for line in files("storeops").joinpath(f"data/{name}").read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        if text and label.strip() in ("0", "1"):
            out.append((text.strip(), int(label)))
    return out
