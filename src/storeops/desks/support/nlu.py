"""Understanding a customer's message: intents (several per message), sentiment, entities,
sensitive topics. Trained on shipped data by ``storeops models train support-nlu``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storeops.artifacts import load_artifact, save_artifact
from storeops.datasets import bitext_utterances, sentiment_sentences

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

ANGER = re.compile(
    r"\b(furious|ridiculous|unacceptable|worst|terrible|awful|disgusting|scam|useless|incompetent|pathetic|"
    r"fed up|sick of|a joke|angry|outraged|livid|fuck\w*|shit\w*|crap|damn|thanks for nothing|yeah right)\b",
    re.IGNORECASE,
)
SENSITIVE = re.compile(
    r"\b(chargeback|dispute|lawyer|attorney|legal action|sue|court|injur\w*|burn\w*|fire|hurt|unsafe|"
    r"allerg\w*|gdpr|privacy|personal data|delete (?:all )?my (?:data|personal)|harass\w*|threat\w*)\b",
    re.IGNORECASE,
)
_SOMEONE = (
    r"(?:an?\s+|your\s+|some\s+)?(?:human|person|real person|agent|someone|somebody|manager|supervisor|"
    r"representative|rep|someone real|somebody real)"
)
HUMAN = re.compile(
    rf"\b(?:(?:speak|talk|chat)\s+(?:to|with)\s+{_SOMEONE}|(?:get|put)\s+me\s+(?:through\s+to\s+)?{_SOMEONE}"
    r"|(?:someone|somebody)\s+real|phone\s+number\s+I\s+can\s+call)\b",
    re.IGNORECASE,
)
ORDER_NUMBER = re.compile(r"(?:#|\border\s*(?:number|no\.?|n°)?\s*:?\s*)(\w*\d[\w-]*)", re.IGNORECASE)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
CLAUSES = re.compile(r"(?<=[.!?])\s+|\b(?:also|and also|besides|plus|another thing)\b[,:]?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Intent:
    intent: str
    topic: str
    confidence: float


@dataclass(frozen=True)
class Understanding:
    """What one message says."""

    intents: list[Intent]
    sentiment_score: float
    """−1 (very negative) … 1 (very positive)."""
    sensitive: list[str] = field(default_factory=list)
    asked_for_human: bool = False
    order_numbers: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

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
            "intents": [intent.__dict__ for intent in self.intents],
            "sentiment": {"label": self.sentiment_label, "score": round(self.sentiment_score, 3)},
            "sensitive": self.sensitive,
            "asked_for_human": self.asked_for_human,
            "entities": {"order_numbers": self.order_numbers, "emails": self.emails},
        }


class SupportModels:
    """The intent and sentiment classifiers, with the rules around them."""

    def __init__(self, intent: Any, sentiment: Any, version: str) -> None:
        self.intent = intent
        self.sentiment = sentiment
        self.version = version

    def understand(self, text: str, *, min_confidence: float = 0.5) -> Understanding:
        """Intents per clause (so "where is my order? also I want an invoice" is two), sentiment
        with anger and sarcasm cues forcing negative, sensitive topics, entities."""
        clauses = [c.strip() for c in CLAUSES.split(text) if c and len(c.strip()) > 3] or [text]
        probabilities = self.intent.predict_proba(clauses)
        labels = self.intent.classes_
        candidates = []
        for row in probabilities:
            best = int(row.argmax())
            intent = str(labels[best])
            candidates.append(Intent(intent, TOPICS.get(intent, "faq"), round(float(row[best]), 3)))
        candidates.sort(key=lambda i: -i.confidence)
        # Each clause the model is sure of is an issue; when it is sure of none, the best guess stands
        # alone (and will read as low confidence).
        sure = [c for c in candidates if c.confidence >= min_confidence] or candidates[:1]
        intents: list[Intent] = []
        for candidate in sure:
            if all(existing.topic != candidate.topic for existing in intents):
                intents.append(candidate)
        intents.sort(key=lambda i: -i.confidence)
        positive = float(self.sentiment.predict_proba([text])[0][1])
        score = 2 * positive - 1
        if ANGER.search(text):
            score = min(score, -0.6)
        human = bool(HUMAN.search(text)) or any(i.topic == "human" and i.confidence >= min_confidence for i in intents)
        return Understanding(
            intents=intents,
            sentiment_score=score,
            sensitive=sorted({m.group(0).lower() for m in SENSITIVE.finditer(text)}),
            asked_for_human=human,
            order_numbers=[m.group(1) for m in ORDER_NUMBER.finditer(text)],
            emails=EMAIL.findall(text),
        )

    def save(self, folder: Path) -> Path:
        """Write the models as ``support-nlu-<version>.pkl`` and make them current."""
        data = {"intent": self.intent, "sentiment": self.sentiment, "version": self.version}
        return save_artifact(folder, "support-nlu", self.version, data)


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
    intent = intent_pipeline().fit([t for _, _, t in utterances], [i for i, _, _ in utterances])
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


def load_support_models(folder: Path) -> SupportModels | None:
    """The current trained models in ``folder``, or None when none were trained."""
    data = load_artifact(folder, "support-nlu")
    if data is None:
        return None
    return SupportModels(data["intent"], data["sentiment"], data["version"])
