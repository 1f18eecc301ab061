"""How the desk combines its rules with the learner, with a stand-in learner whose beliefs the
test sets (the trained one is exercised in tests/integration/test_support_desk.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from storeops.desks.support.nlu import TOPICS, SupportModels

LABELS = sorted(TOPICS)


class Believes:
    """A classifier that gives every text the same probabilities."""

    classes_ = np.array(LABELS)

    def __init__(self, **beliefs: float) -> None:
        rest = (1 - sum(beliefs.values())) / (len(LABELS) - len(beliefs))
        self.row = [beliefs.get(label, rest) for label in LABELS]

    def predict_proba(self, texts: list[str]) -> Any:
        return np.array([self.row for _ in texts])


def sentiment_of(positive: float) -> Any:
    class Sentiment:
        def predict_proba(self, texts: list[str]) -> Any:
            return np.array([[1 - positive, positive] for _ in texts])

    return Sentiment()


def read(text: str, positive: float = 0.8, **beliefs: float) -> Any:
    return SupportModels(Believes(**beliefs), sentiment_of(positive), "stub").understand(text)


def test_two_topics_that_each_score_high_in_one_clause_are_two_issues() -> None:
    both = read("something about two things", delivery_options=0.45, check_payment_methods=0.42)
    assert [(i.topic, i.rule) for i in both.intents] == [("delivery", "two_intents"), ("payment", "two_intents")]
    one = read("something about one thing", delivery_options=0.55, check_payment_methods=0.35)
    assert [(i.topic, i.rule) for i in one.intents] == [("delivery", None)]


def test_a_topic_counts_all_its_intents() -> None:
    # 0.3 + 0.3 for delivery beats 0.35 for payment: the desk acts on topics
    split = read("how does delivery work", delivery_options=0.3, delivery_period=0.3, check_payment_methods=0.35)
    assert [(i.topic, i.intent, i.confidence) for i in split.intents] == [("delivery", "delivery_options", 0.6)]


def test_a_phrase_names_its_topic_and_a_different_reading_counts_only_when_all_but_certain() -> None:
    unsure = read("the shoes don't fit, how do i send them back", review=0.8)
    assert [(i.topic, i.rule) for i in unsure.intents] == [("returns", "phrase:returns")]
    certain = read("the shoes don't fit, how do i send them back", review=0.95)
    assert [i.topic for i in certain.intents] == ["returns", "faq"]


def test_when_my_parcel_arrives_is_a_question_about_the_customer_s_order() -> None:
    own = read("when will my parcel arrive", delivery_period=0.8)
    assert [(i.topic, i.rule) for i in own.intents] == [("order_status", "own_order")]
    general = read("how long does delivery take to ireland", delivery_period=0.8)
    assert [(i.topic, i.rule) for i in general.intents] == [("delivery", None)]


def test_greetings_alone_ask_nothing_and_are_not_read_as_negative() -> None:
    hello = read("Hello there!", positive=0.1, track_order=0.9)
    assert (hello.intents, hello.pleasantry_only, hello.sentiment_score) == ([], True, 0.0)
    sour = read("thanks for nothing", positive=0.1)
    assert sour.sentiment_score <= -0.6 and [i.topic for i in sour.intents] == ["complaint"]


def test_a_negative_message_that_asks_nothing_answerable_is_a_complaint() -> None:
    vague = read("your service is really bad", positive=0.05, review=0.35)
    assert [(i.topic, i.rule) for i in vague.intents] == [("complaint", "negative_without_question")]
    asks = read("this is bad, where is my order", positive=0.05, track_order=0.9)
    assert [i.topic for i in asks.intents] == ["order_status"]


def test_sarcasm_reads_as_negative_whatever_the_sentiment_model_says() -> None:
    assert read("oh great another week of waiting thanks a lot", positive=0.99).sentiment_score == -0.6
