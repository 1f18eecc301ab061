"""Understanding a customer's message: intents (several per message), sentiment, entities,
sensitive topics. Trained on shipped data by ``storeops models train support-nlu``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storeops.artifacts import ArtifactInfo, save_artifact
from storeops.datasets import bitext_utterances, sentiment_sentences
from storeops.desks.support.entities import Entities, extract_entities, intent_text
from storeops.desks.support.rules import (
    ANGER,
    HUMAN,
    OWN_ORDER,
    phrase_topics,
    sarcastic,
    sensitive_topics,
    split_clauses,
)

TOPICS = {
    "track_order": "order_status",
    "cancel_order": "cancellation",
    "change_order": "order_change",
    "place_order": "faq",
    "change_shipping_address": "address_change",
    "set_up_shipping_address": "address_change",
    "delivery_options": "delivery",
    "delivery_period": "delivery",
    "get_refund": "refund",
    "track_refund": "refund",
    "check_refund_policy": "returns",
    "complaint": "complaint",
    "review": "faq",
    "contact_customer_service": "human",
    "contact_human_agent": "human",
    "payment_issue": "payment",
    "check_payment_methods": "payment",
    "check_invoice": "invoice",
    "get_invoice": "invoice",
    "check_cancellation_fee": "cancellation",
    "create_account": "account",
    "delete_account": "account",
    "edit_account": "account",
    "switch_account": "account",
    "recover_password": "account",
    "registration_problems": "account",
    "newsletter_subscription": "faq",
}
"""Bitext intents → the topics a message can be about; two topics in one message is two issues."""

LEARNER_CERTAIN = 0.9
"""A clause whose phrases name one topic still counts the learner's other topic at this confidence."""
TWO_INTENTS = 0.4
"""Two topics that each reach this confidence in one clause are two issues."""


@dataclass(frozen=True)
class Intent:
    intent: str
    topic: str
    confidence: float
    rule: str | None = None
    """The rule that read this topic (a phrase, the customer's own order), or None for the learner alone."""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"intent": self.intent, "topic": self.topic, "confidence": self.confidence}
        if self.rule:
            data["rule"] = self.rule
        return data


@dataclass(frozen=True)
class Understanding:
    """What one message says."""

    intents: list[Intent]
    sentiment_score: float
    """−1 (very negative) … 1 (very positive)."""
    sensitive: list[str] = field(default_factory=list)
    """Sensitive topics raised: chargeback, legal, safety, privacy, harassment."""
    sensitive_words: list[str] = field(default_factory=list)
    asked_for_human: bool = False
    entities: Entities = field(default_factory=Entities)
    pleasantry_only: bool = False
    """Only a greeting, thanks or sign-off: nothing to answer but a greeting."""
    clauses: list[dict[str, Any]] = field(default_factory=list)
    """Each part the learner read (without pleasantries, entities as placeholders) and its own best reading."""

    @property
    def order_numbers(self) -> list[str]:
        return self.entities.order_numbers

    @property
    def emails(self) -> list[str]:
        return self.entities.emails

    @property
    def topics(self) -> list[str]:
        seen: list[str] = []
        for intent in self.intents:
            if intent.topic not in seen:
                seen.append(intent.topic)
        return seen

    @property
    def sentiment_label(self) -> str:
        return "negative" if self.sentiment_score < -0.2 else "positive" if self.sentiment_score > 0.2 else "neutral"

    def as_json(self) -> dict[str, Any]:
        return {
            "intents": [intent.as_json() for intent in self.intents],
            "sentiment": {"label": self.sentiment_label, "score": round(self.sentiment_score, 3)},
            "sensitive": self.sensitive,
            "sensitive_words": self.sensitive_words,
            "asked_for_human": self.asked_for_human,
            "entities": self.entities.as_json(),
            "pleasantry_only": self.pleasantry_only,
            "clauses": self.clauses,
        }


class SupportModels:
    """The intent and sentiment classifiers, with the rules around them."""

    def __init__(
        self, intent: Any, sentiment: Any, version: str, *, source: str = "trained", info: ArtifactInfo | None = None
    ) -> None:
        self.intent = intent
        self.sentiment = sentiment
        self.version = version
        self.source = source
        """``store`` (the store's own), ``default`` (built from the shipped data) or ``trained`` (in memory)."""
        self.info = info

    def understand(self, text: str, *, min_confidence: float = 0.5) -> Understanding:
        """Read a message: entities first, then intents per clause (so "where is my order? also I
        want an invoice" is two issues) on the text without pleasantries, phrase rules beside the
        learner, sentiment with anger and sarcasm cues forcing negative, sensitive topics."""
        entities = extract_entities(text)
        reading = intent_text(text)
        clauses = (split_clauses(reading) or [reading]) if reading else []
        intents, learner = self._read_clauses(clauses, min_confidence) if clauses else ([], [])
        positive = float(self.sentiment.predict_proba([text])[0][1])
        score = 2 * positive - 1
        if ANGER.search(text) or sarcastic(text):
            score = min(score, -0.6)
        elif not clauses:
            # "Hello there!" is no complaint: a greeting or thanks alone is negative only in words.
            score = max(score, 0.0)
        # A negative message that asks nothing the desk can answer is a complaint.
        top = intents[0] if intents else None
        if score <= -0.6 and (top is None or (top.topic == "faq" and top.confidence < min_confidence)):
            intents = [Intent("complaint", "complaint", 1.0, rule="negative_without_question")]
        sensitive = sensitive_topics(text)
        human = bool(HUMAN.search(text)) or any(i.topic == "human" and i.confidence >= min_confidence for i in intents)
        return Understanding(
            intents=intents,
            sentiment_score=score,
            sensitive=sorted(sensitive),
            sensitive_words=[sensitive[name] for name in sorted(sensitive)],
            asked_for_human=human,
            entities=entities,
            pleasantry_only=not clauses,
            clauses=[{"text": c, "learner": best.as_json()} for c, best in zip(clauses, learner, strict=True)],
        )

    def _read_clauses(self, clauses: list[str], min_confidence: float) -> tuple[list[Intent], list[Intent]]:
        """The issues of a message's clauses, and the learner's own best reading of each clause."""
        probabilities = self.intent.predict_proba(clauses)
        labels = [str(label) for label in self.intent.classes_]
        candidates: list[Intent] = []
        learner: list[Intent] = []
        for clause, row in zip(clauses, probabilities, strict=True):
            by_topic: dict[str, float] = {}
            best_in_topic: dict[str, tuple[str, float]] = {}
            for label, p in zip(labels, row, strict=True):
                topic = TOPICS.get(label, "faq")
                by_topic[topic] = by_topic.get(topic, 0.0) + float(p)
                if float(p) > best_in_topic.get(topic, ("", -1.0))[1]:
                    best_in_topic[topic] = (label, float(p))
            ranked = sorted(by_topic, key=lambda t: -by_topic[t])
            top = ranked[0]
            guess = Intent(best_in_topic[top][0], top, round(by_topic[top], 3))
            learner.append(guess)
            phrases = phrase_topics(clause)
            if phrases:
                # Phrases name their topics beyond doubt; the learner's different reading counts
                # too only when it is all but certain.
                candidates += [Intent(best_in_topic[t][0], t, 1.0, rule=f"phrase:{t}") for t in phrases]
                if top not in phrases and guess.confidence >= LEARNER_CERTAIN:
                    candidates.append(guess)
            elif guess.intent == "delivery_period" and OWN_ORDER.search(clause):
                # "When will my parcel arrive?" asks about the customer's own order, not delivery times.
                candidates.append(Intent(guess.intent, "order_status", 1.0, rule="own_order"))
            else:
                candidates.append(guess)
                second = ranked[1] if len(ranked) > 1 else None
                if second and by_topic[top] >= TWO_INTENTS and by_topic[second] >= TWO_INTENTS:
                    # Two topics that score high together are two issues (neither alone reaches
                    # min_confidence: the learner splits its belief between them).
                    candidates[-1] = Intent(guess.intent, top, guess.confidence, rule="two_intents")
                    candidates.append(
                        Intent(best_in_topic[second][0], second, round(by_topic[second], 3), rule="two_intents")
                    )
        # Each part the desk is sure of is an issue; when it is sure of none, the best guess stands
        # alone (and reads as low confidence).
        sure = [c for c in candidates if c.rule is not None or c.confidence >= min_confidence] or sorted(
            candidates, key=lambda i: -i.confidence
        )[:1]
        intents: list[Intent] = []
        for candidate in sorted(sure, key=lambda i: -i.confidence):
            if all(existing.topic != candidate.topic for existing in intents):
                intents.append(candidate)
        return intents, learner

    def save(self, folder: Path) -> Path:
        """Write the models as ``support-nlu-<version>.pkl`` and make them current."""
        from storeops.desks.support.models import data_digest

        data = {"intent": self.intent, "sentiment": self.sentiment, "version": self.version}
        return save_artifact(folder, "support-nlu", self.version, data, data_digest=data_digest())


def intent_pipeline() -> Any:
    """The intent learner: word and character n-grams into a logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )
    return make_pipeline(features, LogisticRegression(C=20, max_iter=2000))


def sentiment_pipeline() -> Any:
    """The sentiment learner: word n-grams and character n-grams into a logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )
    return make_pipeline(features, LogisticRegression(C=10, max_iter=2000))


_VADER: Any = None


def lexicon_scores(texts: list[str]) -> Any:
    """VADER's compound score (−1…1) per text: a hand-built sentiment lexicon with rules for
    negation, intensifiers and punctuation, which knows words a thousand reviews never show."""
    global _VADER
    import numpy as np

    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    return np.array([_VADER.polarity_scores(text)["compound"] for text in texts])


class LexiconStack:
    """The learned text model and the lexicon's score, weighed by a logistic regression fitted on
    the text model's out-of-fold predictions (so the weights never see a prediction on its own
    training text). Its ``predict_proba`` is that of a classifier."""

    def __init__(self, text_model: Any, meta: Any) -> None:
        self.text_model = text_model
        self.meta = meta

    def predict_proba(self, texts: list[str]) -> Any:
        import numpy as np

        learned = self.text_model.predict_proba(texts)[:, 1]
        return self.meta.predict_proba(np.c_[learned, lexicon_scores(texts)])

    def predict(self, texts: list[str]) -> Any:
        return (self.predict_proba(texts)[:, 1] >= 0.5).astype(int)


def fit_sentiment(
    texts: list[str], labels: list[int], *, weigh: list[bool] | None = None, folds: int = 5
) -> LexiconStack:
    """Fit the text model on everything and the weighing on its ``folds``-fold out-of-fold
    predictions of the texts ``weigh`` marks (default all): opinions, not the service requests
    that are there to teach the text model what neutral looks like."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    out_of_fold = np.zeros(len(texts))
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=1).split(texts, y):
        model = sentiment_pipeline().fit([texts[i] for i in train], y[train])
        out_of_fold[test] = model.predict_proba([texts[i] for i in test])[:, 1]
    chosen = np.array(weigh if weigh is not None else [True] * len(texts))
    kept = [text for text, keep in zip(texts, chosen, strict=True) if keep]
    meta = LogisticRegression().fit(np.c_[out_of_fold[chosen], lexicon_scores(kept)], y[chosen])
    return LexiconStack(sentiment_pipeline().fit(texts, y), meta)


def train_support_models(version: str) -> SupportModels:
    """Fit both models on the shipped data (Bitext intents; UCI Amazon + Yelp sentiment)."""
    utterances = bitext_utterances()
    intent = intent_pipeline().fit([intent_text(t) for _, _, t in utterances], [i for i, _, _ in utterances])
    sentences = sentiment_training_set()
    reviews = {text for text, _ in sentiment_sentences("amazon") + sentiment_sentences("yelp")}
    sentiment = fit_sentiment(
        [t for t, _ in sentences], [y for _, y in sentences], weigh=[t in reviews for t, _ in sentences]
    )
    return SupportModels(intent, sentiment, version)


def sentiment_training_set() -> list[tuple[str, int]]:
    """UCI review sentences plus Bitext service requests: reviews alone teach a model that every
    neutral question ("how do I reset my password") is negative, so requests count as
    not-negative (1) and Bitext's complaints as negative (0). Every third request is enough."""
    requests = [(text, 0 if intent == "complaint" else 1) for intent, _, text in bitext_utterances()]
    complaints = [r for r in requests if r[1] == 0]
    return (
        sentiment_sentences("amazon")
        + sentiment_sentences("yelp")
        + complaints
        + [r for r in requests if r[1] == 1][::3]
    )
