"""Return-reason classifier on its own held-apart evaluation set, against baselines measured in the same run.

    python -m bench.return_reasons [--candidates] [--json]

- data: ``storeops/data/return_reasons`` — train.csv and eval.csv, written by hand apart from
  each other (README.md there); the overlap check prints the highest token Jaccard between an
  eval line and any train line and how many eval lines pass 0.6.
- storeops: ``storeops.desks.returns.classify.train`` on train.csv, scored once on eval.csv:
  macro-F1, accuracy, per-class precision/recall/F1, the confusion matrix (rows: the label,
  columns: the reading). Goal: eval macro-F1 ≥ 0.85.
- for comparison: 5-fold stratified cross-validation macro-F1 on train.csv (seed 0), and two
  baselines on eval.csv: keyword rules written from the category definitions (not tuned on
  eval) and the majority class; the ratio is storeops' eval macro-F1 over the keyword rules'.
- confidence: for thresholds 0.5, 0.7 and 0.9, the share of eval.csv read at or above it and
  the accuracy among those (what a desk gets if it acts alone only above the threshold).
- speed: seconds to train on train.csv (median of 3, after the imports), what
  ``default_classifier`` costs a process once.
- ``--candidates``: the model choice — 5-fold CV macro-F1 and fit seconds of logistic
  regression and calibrated linear SVMs on the same features (train.csv only).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import console, print_results
from storeops.desks.returns.classify import (
    CATEGORIES,
    Reading,
    ReasonClassifier,
    evaluate,
    evaluation_examples,
    shipped_examples,
    train,
)

GOAL = 0.85
NEAR_DUPLICATE = 0.6
THRESHOLDS = (0.5, 0.7, 0.9)
# Column heads of the confusion table, short enough for seven columns on one line.
SHORT = {
    "size_fit": "size",
    "damaged_defective": "damaged",
    "not_as_described": "not as desc.",
    "wrong_item": "wrong",
    "arrived_late": "late",
    "changed_mind": "changed",
    "other": "other",
}

# Keyword rules a shop would write on day one, first match wins, from the definitions in
# storeops/data/return_reasons/README.md. Lateness and wrong items go first: their words are the
# most specific ("too late", "instead of"); size words ("small", "fit") are the most ambiguous.
KEYWORD_RULES: list[tuple[str, str]] = [
    ("arrived_late", r"\blate\b|delay|too long|took (?:ages|forever|\d+|weeks?)|in time|after the|slow|weeks? to"),
    ("wrong_item", r"\bwrong\b|instead of|not what i ordered|i ordered|someone else|not my"),
    (
        "damaged_defective",
        r"broke|damage|faulty|defect|crack|smash|snap|leak|torn|tear\b|hole|scratch|stain|"
        r"(?:doesn'?t|does not|won'?t|not) (?:work|turn on|charge|switch on)|stopped|dead|missing",
    ),
    (
        "not_as_described",
        r"describ|description|advertis|listing|photo|picture|\bpics?\b|website|online|shown|as stated|claim",
    ),
    ("size_fit", r"\bsmall|\bbig\b|tight|loose|\bfit|\bsize|too long|too short|large|snug|baggy"),
    (
        "changed_mind",
        r"changed? (?:my )?mind|(?:don'?t|no longer) (?:need|want)|cheaper|mistake|accident|"
        r"not for me|(?:don'?t|didn'?t) like|not needed|no longer",
    ),
]


class KeywordRules:
    """The keyword baseline, read like a classifier."""

    def __init__(self) -> None:
        self._rules = [(category, re.compile(pattern, re.IGNORECASE)) for category, pattern in KEYWORD_RULES]

    def classify_many(self, texts: Sequence[str]) -> list[Reading]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Reading:
        for category, pattern in self._rules:
            if pattern.search(text):
                return Reading(category, 1.0)
        return Reading("other", 1.0)


class Majority:
    """Every reason read as the commonest category of the training set."""

    def __init__(self, examples: Sequence[tuple[str, str]]) -> None:
        self._category = Counter(category for _, category in examples).most_common(1)[0][0]

    def classify_many(self, texts: Sequence[str]) -> list[Reading]:
        return [Reading(self._category, 1.0) for _ in texts]


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def overlap(train_set: Sequence[tuple[str, str]], eval_set: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """For each eval line, the train line sharing the largest share of its word tokens (Jaccard)."""
    train_tokens = [(_tokens(text), text) for text, _ in train_set]
    nearest = []
    for text, _ in eval_set:
        mine = _tokens(text)
        score, twin = max(
            (
                (len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0, other)
                for theirs, other in train_tokens
            ),
            key=lambda pair: pair[0],
        )
        nearest.append((score, text, twin))
    nearest.sort(reverse=True)
    return {
        "max_jaccard": round(nearest[0][0], 3),
        "above_threshold": sum(score > NEAR_DUPLICATE for score, _, _ in nearest),
        "threshold": NEAR_DUPLICATE,
        "closest": [{"eval": e, "train": t, "jaccard": round(s, 3)} for s, e, t in nearest[:3]],
    }


def cross_validated(examples: Sequence[tuple[str, str]], fit: Callable[[list[tuple[str, str]]], Any]) -> list[float]:
    """Macro-F1 of each of 5 stratified folds (seed 0), fitting on the other four."""
    from sklearn.model_selection import StratifiedKFold

    labels = [category for _, category in examples]
    scores = []
    for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=0).split(examples, labels):
        model = fit([examples[i] for i in train_idx])
        scores.append(evaluate(model, [examples[i] for i in test_idx])["macro_f1"])
    return scores


def candidates(examples: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The learners the classifier was chosen from, on the same features, by CV on train only."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    def features() -> Any:
        return make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode"),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode"),
        )

    learners: dict[str, Callable[[], Any]] = {
        **{
            f"logistic regression C={c}": (lambda c=c: LogisticRegression(C=c, max_iter=2000)) for c in (3, 10, 30, 100)
        },
        **{
            f"linear SVM C={c}, calibrated": (lambda c=c: CalibratedClassifierCV(LinearSVC(C=c, random_state=0), cv=3))
            for c in (0.3, 1.0)
        },
    }
    rows = []
    for name, learner in learners.items():

        def fit(part: list[tuple[str, str]], learner: Callable[[], Any] = learner) -> ReasonClassifier:
            pipeline = make_pipeline(features(), learner())
            pipeline.fit([t for t, _ in part], [c for _, c in part])
            return ReasonClassifier(pipeline)

        seconds = _median_seconds(lambda fit=fit: fit(list(examples)))
        scores = cross_validated(examples, fit)
        rows.append(
            {
                "case": name,
                "cv_macro_f1": round(statistics.mean(scores), 4),
                "cv_sd": round(statistics.stdev(scores), 4),
                "fit_seconds": round(seconds, 3),
            }
        )
    return rows


def by_confidence(classifier: ReasonClassifier, examples: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Share of ``examples`` read at or above each threshold, and the accuracy among them."""
    readings = classifier.classify_many([text for text, _ in examples])
    rows = []
    for threshold in THRESHOLDS:
        sure = [r.category == c for r, (_, c) in zip(readings, examples, strict=True) if r.confidence >= threshold]
        rows.append(
            {
                "case": f"confidence ≥ {threshold}",
                "share_of_eval": round(len(sure) / len(examples), 3),
                "accuracy": round(sum(sure) / len(sure), 3) if sure else None,
                "wrong": len(sure) - sum(sure),
            }
        )
    return rows


def _median_seconds(work: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _confusion_table(confusion: list[list[int]]) -> Table:
    table = Table(title="Confusion on eval.csv (rows: label, columns: reading)", title_justify="left")
    table.add_column("label", justify="left")
    for category in CATEGORIES:
        table.add_column(SHORT[category], justify="right")
    for category, row in zip(CATEGORIES, confusion, strict=True):
        table.add_row(category, *[str(n) if n else "·" for n in row])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", action="store_true", help="also compare the learners the model was chosen from")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    train_set, eval_set = shipped_examples(), evaluation_examples()
    console.print(f"train.csv {len(train_set)} examples, eval.csv {len(eval_set)} examples")
    near = overlap(train_set, eval_set)

    train(train_set[::10])  # the imports, so the timing below is the training alone
    seconds = _median_seconds(lambda: train(train_set))
    classifier = train(train_set)
    ours = evaluate(classifier, eval_set)
    folds = cross_validated(train_set, train)
    keywords = evaluate(KeywordRules(), eval_set)
    majority = evaluate(Majority(train_set), eval_set)

    per_class: list[dict[str, Any]] = [
        {
            "case": category,
            "precision": round(figures["precision"], 3),
            "recall": round(figures["recall"], 3),
            "f1": round(figures["f1"], 3),
            "support": figures["support"],
            "keyword_f1": round(keywords["per_class"][category]["f1"], 3),
        }
        for category, figures in ours["per_class"].items()
    ]
    per_class.append(
        {
            "case": "macro",
            "precision": round(statistics.mean(r["precision"] for r in per_class), 3),
            "recall": round(statistics.mean(r["recall"] for r in per_class), 3),
            "f1": round(ours["macro_f1"], 3),
            "support": ours["n"],
            "keyword_f1": round(keywords["macro_f1"], 3),
        }
    )
    print_results(
        "Return reasons on eval.csv — storeops per class (keyword rules' F1 beside)",
        ["case", "precision", "recall", "f1", "support", "keyword_f1"],
        per_class,
        {},
        False,
    )
    Console(width=max(120, Console().width)).print(_confusion_table(ours["confusion"]))
    confident = by_confidence(classifier, eval_set)
    print_results(
        "Return reasons on eval.csv — by confidence",
        ["case", "share_of_eval", "accuracy", "wrong"],
        confident,
        {},
        False,
    )

    ratio = ours["macro_f1"] / keywords["macro_f1"] if keywords["macro_f1"] else None
    summary: dict[str, Any] = {
        "eval_macro_f1": round(ours["macro_f1"], 4),
        "eval_accuracy": round(ours["accuracy"], 4),
        "goal": GOAL,
        "met": bool(ours["macro_f1"] >= GOAL),
        "cv_macro_f1": round(statistics.mean(folds), 4),
        "cv_folds": [round(f, 4) for f in folds],
        "keyword_macro_f1": round(keywords["macro_f1"], 4),
        "majority_macro_f1": round(majority["macro_f1"], 4),
        "ratio_to_keywords": round(ratio, 2) if ratio else None,
        "train_seconds": round(seconds, 3),
        "overlap": near,
        "by_confidence": confident,
        "per_class": ours["per_class"],
        "confusion": ours["confusion"],
    }
    if args.candidates:
        summary["candidates"] = candidates(train_set)
        print_results(
            "Model choice: 5-fold CV on train.csv",
            ["case", "cv_macro_f1", "cv_sd", "fit_seconds"],
            summary["candidates"],
            {},
            False,
        )
    figures = [
        {"figure": "eval macro-F1 (goal ≥ 0.85)", "value": summary["eval_macro_f1"]},
        {"figure": "eval accuracy", "value": summary["eval_accuracy"]},
        {"figure": "5-fold CV macro-F1 on train", "value": summary["cv_macro_f1"]},
        {"figure": "keyword rules, eval macro-F1", "value": summary["keyword_macro_f1"]},
        {"figure": "majority class, eval macro-F1", "value": summary["majority_macro_f1"]},
        {"figure": "storeops / keyword rules", "value": summary["ratio_to_keywords"]},
        {"figure": "train seconds (median of 3)", "value": summary["train_seconds"]},
        {"figure": "eval↔train max token Jaccard", "value": near["max_jaccard"]},
        {"figure": f"eval lines with a train line > {NEAR_DUPLICATE}", "value": near["above_threshold"]},
    ]
    print_results("Return reasons — summary", ["figure", "value"], figures, summary, args.json)


if __name__ == "__main__":
    main()
