"""Reading a customer's free-text return reason into a fixed taxonomy.

A return form's "why are you sending it back?" box is free text. The returns desk needs it as
one of ``CATEGORIES``: their definitions and the rule for each ambiguous pair are in
``storeops/data/return_reasons/README.md``, the measured figures in docs/return-reasons.md.
The learner is word and character n-grams into a calibrated linear SVM, trained on hand-written
examples shipped in ``storeops/data/return_reasons`` and, on top, on the corrections people
made to the desk's readings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Protocol

CATEGORIES: tuple[str, ...] = (
    "size_fit",
    "damaged_defective",
    "not_as_described",
    "wrong_item",
    "arrived_late",
    "changed_mind",
    "other",
)

# A person's correction outweighs a shipped example: it is a label for this shop's customers,
# given after seeing what the desk got wrong. Measured (docs/return-reasons.md): any weight from
# 1 to 10 flips the corrected text itself; more weight carries it further to paraphrases, even
# against shipped examples of another category, with eval macro-F1 unmoved. 3 counts a person
# for more without one correction taking over a neighbourhood the shipped examples agree on.
CORRECTION_WEIGHT = 3.0

_DATA = "data/return_reasons"


@dataclass(frozen=True)
class Reading:
    """The desk's reading of one return reason."""

    category: str
    """One of ``CATEGORIES``."""
    confidence: float
    """The learner's probability for ``category``, 0..1; 0.0 when there was nothing to read."""


class ReasonReader(Protocol):
    """Anything that reads reasons in bulk: ``ReasonClassifier``, or a baseline to compare it with."""

    def classify_many(self, texts: Sequence[str]) -> list[Reading]: ...


class ReasonClassifier:
    """A trained reader of return reasons; build one with ``train`` or ``default_classifier``."""

    def __init__(self, pipeline: Any) -> None:
        self._pipeline = pipeline
        self._classes: list[str] = [str(c) for c in pipeline.classes_]

    def classify(self, text: str) -> Reading:
        """The category of one reason and how sure the learner is. Never raises on a str."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Reading]:
        """``classify`` for many texts in one pass of the learner."""
        readings: list[Reading | None] = [None] * len(texts)
        # Text with no letter or digit (empty, blanks, punctuation, emoji) has nothing to read:
        # the learner would answer from its intercepts alone, which looks like a reading but is not.
        readable = [i for i, text in enumerate(texts) if _has_content(text)]
        if readable:
            probabilities = self._pipeline.predict_proba([texts[i] for i in readable])
            for i, row in zip(readable, probabilities, strict=True):
                best = int(row.argmax())
                readings[i] = Reading(self._classes[best], min(1.0, max(0.0, float(row[best]))))
        return [reading or Reading("other", 0.0) for reading in readings]


def _has_content(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _check_categories(pairs: Sequence[tuple[str, str]], what: str) -> None:
    known = set(CATEGORIES)
    for _, category in pairs:
        if category not in known:
            raise ValueError(f"unknown return-reason category in {what}: {category!r} (known: {', '.join(CATEGORIES)})")


def _pipeline() -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    # Words carry the meaning ("not damaged", "too late"); character n-grams within words carry
    # the typos and spellings customers write ("recieved", "colour"/"color", "doesnt").
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode"),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode"),
    )
    # A linear SVM scores as well as logistic regression on these features (5-fold CV macro-F1
    # on train 0.842 against 0.828-0.835, within the folds' spread; `bench.return_reasons
    # --candidates`) and fits several times faster; the calibration turns its margins into the
    # probabilities the desk reads as confidence.
    return make_pipeline(features, CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), cv=3))


def train(examples: Sequence[tuple[str, str]], *, corrections: Sequence[tuple[str, str]] = ()) -> ReasonClassifier:
    """A classifier trained on (text, category) ``examples`` and people's ``corrections``.

    Corrections weigh ``CORRECTION_WEIGHT`` times an example, and an example whose text a
    correction relabels is dropped. Raises ValueError naming any category not in ``CATEGORIES``.
    """
    _check_categories(examples, "examples")
    _check_categories(corrections, "corrections")
    corrected = {_key(text) for text, _ in corrections}
    # A correction is the last word on its text: keeping the shipped label beside it would make
    # the learner split the difference.
    kept = [(text, category) for text, category in examples if _key(text) not in corrected]
    rows = kept + list(corrections)
    if len({category for _, category in rows}) < 2:
        raise ValueError("training needs examples of at least two categories")
    weights = [1.0] * len(kept) + [CORRECTION_WEIGHT] * len(corrections)
    pipeline = _pipeline()
    pipeline.fit(
        [text for text, _ in rows],
        [category for _, category in rows],
        calibratedclassifiercv__sample_weight=weights,
    )
    return ReasonClassifier(pipeline)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _read_csv(name: str) -> list[tuple[str, str]]:
    text = files("storeops").joinpath(f"{_DATA}/{name}").read_text(encoding="utf-8")
    return [(row["text"], row["category"]) for row in csv.DictReader(io.StringIO(text))]


def shipped_examples() -> list[tuple[str, str]]:
    """The shipped training examples as (text, category): ``data/return_reasons/train.csv``."""
    return _read_csv("train.csv")


def evaluation_examples() -> list[tuple[str, str]]:
    """The shipped evaluation set, written apart from the training set: ``data/return_reasons/eval.csv``."""
    return _read_csv("eval.csv")


@cache
def default_classifier() -> ReasonClassifier:
    """A classifier trained on ``shipped_examples``, once per process."""
    return train(shipped_examples())


def evaluate(classifier: ReasonReader, examples: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """How ``classifier`` reads labelled ``examples``: macro-F1, accuracy, per-class precision,
    recall, F1 and support, and the confusion matrix (rows true, columns read, ``CATEGORIES`` order).
    Raises ValueError on no examples or an unknown category."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    if not examples:
        raise ValueError("no examples to evaluate")
    _check_categories(examples, "examples")
    labels = list(CATEGORIES)
    truth = [category for _, category in examples]
    read = [reading.category for reading in classifier.classify_many([text for text, _ in examples])]
    precision, recall, f1, support = precision_recall_fscore_support(truth, read, labels=labels, zero_division=0)
    n = len(examples)
    return {
        # Averaged over the categories in the truth or the readings: one the set never holds but
        # the classifier reads still counts, as a miss.
        "macro_f1": float(f1_score(truth, read, average="macro", zero_division=0)),
        "accuracy": sum(t == r for t, r in zip(truth, read, strict=True)) / n,
        "n": n,
        "per_class": {
            category: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, category in enumerate(labels)
        },
        "confusion": confusion_matrix(truth, read, labels=labels).tolist(),
    }
