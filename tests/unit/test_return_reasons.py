"""The return-reason classifier: its figures on the held-apart eval set, odd input, corrections."""

from __future__ import annotations

import re
from collections import Counter
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.desks.returns.classify import (
    CATEGORIES,
    Reading,
    default_classifier,
    evaluate,
    evaluation_examples,
    shipped_examples,
    train,
)


def test_the_shipped_data_loads_as_package_data_with_enough_of_every_category() -> None:
    assert files("storeops").joinpath("data/return_reasons/train.csv").is_file()
    train_counts = Counter(category for _, category in shipped_examples())
    eval_counts = Counter(category for _, category in evaluation_examples())
    assert set(train_counts) == set(eval_counts) == set(CATEGORIES)
    assert min(train_counts.values()) >= 80
    assert min(eval_counts.values()) >= 40


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def test_no_eval_line_near_duplicates_a_train_line() -> None:
    train_tokens = [_tokens(text) for text, _ in shipped_examples()]
    for text, _ in evaluation_examples():
        mine = _tokens(text)
        nearest = max(len(mine & theirs) / len(mine | theirs) for theirs in train_tokens)
        assert nearest <= 0.6, text


def test_eval_macro_f1_reaches_the_goal() -> None:
    figures = evaluate(default_classifier(), evaluation_examples())
    assert figures["macro_f1"] >= 0.85
    assert figures["n"] == sum(map(sum, figures["confusion"])) == len(evaluation_examples())
    assert list(figures["per_class"]) == list(CATEGORIES)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # The boundary rules in storeops/data/return_reasons/README.md, one example each.
        ("arrived broken", "damaged_defective"),
        ("not the colour in the photo", "not_as_described"),
        ("you sent a blue one, I ordered red", "wrong_item"),
        ("came after the wedding", "arrived_late"),
        ("don't need it any more, found it cheaper", "changed_mind"),
        ("not damaged, just doesn't fit", "size_fit"),
    ],
)
def test_the_data_readme_boundary_examples_read_as_documented(text: str, category: str) -> None:
    assert default_classifier().classify(text).category == category


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!...", "—", "🙂🙂🙂", "📦💔"])
def test_text_with_nothing_to_read_is_other_with_no_confidence(text: str) -> None:
    assert default_classifier().classify(text) == Reading("other", 0.0)


def test_long_junk_is_read_without_raising() -> None:
    junk = ("zx9 ¤¤ qwop 🙂 ʕ•ᴥ•ʔ \x00 lorem " * 200)[:5000]
    reading = default_classifier().classify(junk)
    assert reading.category in CATEGORIES
    assert 0.0 <= reading.confidence <= 1.0


def test_confidence_is_a_probability_and_classify_many_agrees_with_classify() -> None:
    classifier = default_classifier()
    texts = [text for text, _ in evaluation_examples()[::10]] + ["", "too small"]
    many = classifier.classify_many(texts)
    assert many == [classifier.classify(text) for text in texts]
    assert all(0.0 <= reading.confidence <= 1.0 for reading in many)
    assert all(reading.confidence > 0.0 for reading in many[:-2])


def test_a_correction_changes_the_reading_of_its_phrase() -> None:
    # A plant shop's return reason the shipped examples never saw; the default reads "when it
    # came" as lateness.
    phrase = "the plant was wilting when it came"
    assert default_classifier().classify(phrase).category != "damaged_defective"
    corrections = [(phrase, "damaged_defective"), ("plants arrived wilted and dry", "damaged_defective")]
    corrected = train(shipped_examples(), corrections=corrections)
    assert corrected.classify(phrase).category == "damaged_defective"
    # …and does not disturb what the shipped examples agree on.
    assert corrected.classify("came after the wedding").category == "arrived_late"


def test_a_correction_overrides_a_shipped_example_with_the_same_text() -> None:
    examples = shipped_examples()
    text = next(t for t, c in examples if c == "changed_mind" and "cheaper" in t)
    corrected = train(examples, corrections=[(text, "other")])
    assert corrected.classify(text).category == "other"


@pytest.mark.parametrize("where", ["corrections", "examples"])
def test_an_unknown_category_is_refused_by_name(where: str) -> None:
    bad = [("the lid is a funny shape", "shape_issue")]
    with pytest.raises(ValueError, match="shape_issue"):
        if where == "corrections":
            train(shipped_examples(), corrections=bad)
        else:
            train(shipped_examples() + bad)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_classify_never_raises_on_any_text(text: str) -> None:
    reading = default_classifier().classify(text)
    assert reading.category in CATEGORIES
    assert 0.0 <= reading.confidence <= 1.0
