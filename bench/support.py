"""Support-desk understanding on real data, against baselines measured in the same run.

    python -m bench.support [--json]

- intents: Bitext (6,480 utterances, 27 intents), stratified 80/20 split with seed 0; accuracy
  and macro-F1 of a TF-IDF + logistic regression baseline (word 1–2-grams, C=10) and of
  storeops' learner (word and character n-grams); plus accuracy on 30 messages written unlike
  Bitext's templates (robustness), scored on the topic, and the share of those the learner gets
  wrong with at least the policy's default intent confidence (what the desk would answer on the
  wrong topic rather than hand to a person).
- sentiment: UCI Amazon sentences, 10-fold cross-validation repeated over three shuffles
  (seeds 0, 1, 2: one split's luck moves the figure by about ±0.005 on 1,000 sentences, so the
  mean of the three is the figure and each repeat is printed too); baseline TF-IDF + LR trained
  on the Amazon folds; storeops' learner trained on the Amazon folds plus Yelp and Bitext requests.
- first response: time for storeops to understand one message, p50/p99 over 1,000 messages.
"""

from __future__ import annotations

import argparse
import time

from bench.common import console, print_results
from storeops.datasets import bitext_utterances, sentiment_sentences
from storeops.desks.support.nlu import (
    TOPICS,
    fit_sentiment,
    intent_pipeline,
    sentiment_training_set,
)
from storeops.desks.support.policy import SupportPolicy
from storeops.engine.metrics import percentile

UNLIKE_BITEXT = [
    ("yo where's my stuff, ordered last week", "order_status"),
    ("parcel still not here, tracking says nothing", "order_status"),
    ("has my package shipped yet", "order_status"),
    ("I no longer want the jacket I bought yesterday, please cancel", "cancellation"),
    ("cancel it pls", "cancellation"),
    ("stop my order before it ships", "cancellation"),
    ("I moved, please send the parcel to my new flat instead", "address_change"),
    ("wrong street on my order, can you fix it", "address_change"),
    ("how long does shipping to Germany take", "delivery"),
    ("do you ship to Canada", "delivery"),
    ("what shipping methods do you have", "delivery"),
    ("the shoes don't fit, how do I send them back", "returns"),
    ("what is your return policy for sale items", "returns"),
    ("I returned the item two weeks ago and still no money", "refund"),
    ("when will I get my money back", "refund"),
    ("my card got declined at checkout", "payment"),
    ("can I pay with apple pay", "payment"),
    ("need a receipt for my company", "invoice"),
    ("send me the bill for order 1042", "invoice"),
    ("forgot my login", "account"),
    ("I can't sign in to my account", "account"),
    ("please close my account", "account"),
    ("I want to talk to somebody real", "human"),
    ("get me a manager", "human"),
    ("is there a phone number I can call", "human"),
    ("your service is really bad and I'm disappointed", "complaint"),
    ("I want to make a formal complaint", "complaint"),
    ("can I add another item to the order I placed", "order_change"),
    ("change the size on my order to M", "order_change"),
    ("how do I leave a review", "faq"),
]


def intents(rows: list[dict[str, object]]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    threshold = SupportPolicy().intent_confidence_threshold
    data = bitext_utterances()
    texts, labels = [t for _, _, t in data], [i for i, _, _ in data]
    x_train, x_test, y_train, y_test = train_test_split(texts, labels, test_size=0.2, random_state=0, stratify=labels)
    learners = {
        "baseline: TF-IDF words + LR": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=10, max_iter=2000)
        ),
        "storeops: words + characters + LR": intent_pipeline(),
    }
    for name, learner in learners.items():
        learner.fit(x_train, y_train)
        predicted = learner.predict(x_test)
        probabilities = learner.predict_proba([t for t, _ in UNLIKE_BITEXT])
        unlike = [(learner.classes_[row.argmax()], float(row.max())) for row in probabilities]
        right = [TOPICS[p] == topic for (p, _), (_, topic) in zip(unlike, UNLIKE_BITEXT, strict=True)]
        robust = sum(right) / len(UNLIKE_BITEXT)
        # What matters in the desk: a wrong topic it is sure enough of to answer (below the
        # policy's confidence it hands over as low_confidence instead of guessing).
        sure_wrong = sum(
            not ok and confidence >= threshold for ok, (_, confidence) in zip(right, unlike, strict=True)
        ) / len(UNLIKE_BITEXT)
        rows.append(
            {
                "case": f"intent — {name}",
                "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
                "macro_f1": round(float(f1_score(y_test, predicted, average="macro")), 4),
                "unlike_bitext": round(robust, 3),
                "unlike_wrong_and_sure": round(sure_wrong, 3),
            }
        )


def sentiment(rows: list[dict[str, object]], seeds: tuple[int, ...] = (0, 1, 2)) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    amazon = sentiment_sentences("amazon")
    texts, labels = [t for t, _ in amazon], [y for _, y in amazon]
    extra = [pair for pair in sentiment_training_set() if pair not in set(amazon)]
    yelp = {text for text, _ in sentiment_sentences("yelp")}
    repeats: dict[str, list[float]] = {"baseline": [], "storeops": []}
    for seed in seeds:
        console.print(f"  shuffle {seed} …")
        scores: dict[str, list[float]] = {"baseline": [], "storeops": []}
        for train, test in StratifiedKFold(n_splits=10, shuffle=True, random_state=seed).split(texts, labels):
            x_train, y_train = [texts[i] for i in train], [labels[i] for i in train]
            x_test, y_test = [texts[i] for i in test], [labels[i] for i in test]
            base = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=10, max_iter=2000))
            base.fit(x_train, y_train)
            scores["baseline"].append(
                sum(int(p == y) for p, y in zip(base.predict(x_test), y_test, strict=True)) / len(y_test)
            )
            ours = fit_sentiment(
                x_train + [t for t, _ in extra],
                y_train + [y for _, y in extra],
                weigh=[True] * len(x_train) + [t in yelp for t, _ in extra],
            )
            scores["storeops"].append(
                sum(int(p == y) for p, y in zip(ours.predict(x_test), y_test, strict=True)) / len(y_test)
            )
        for name, values in scores.items():
            repeats[name].append(sum(values) / len(values))
    for name, values in repeats.items():
        rows.append(
            {
                "case": f"sentiment (UCI Amazon, 10-fold × {len(seeds)}) — {name}",
                "accuracy": round(sum(values) / len(values), 4),
                "per_shuffle": " / ".join(f"{v:.3f}" for v in values),
            }
        )


def latency(rows: list[dict[str, object]]) -> None:
    from storeops.desks.support.nlu import train_support_models

    models = train_support_models("bench")
    messages = [t for _, _, t in bitext_utterances()[::6]][:1000]
    timings = []
    for text in messages:
        started = time.perf_counter()
        models.understand(text)
        timings.append((time.perf_counter() - started) * 1000)
    rows.append(
        {
            "case": "first response: understand one message",
            "p50_ms": percentile(timings, 50),
            "p99_ms": percentile(timings, 99),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    console.print("intents …")
    intents(rows)
    console.print("sentiment, 10 folds × 3 shuffles …")
    sentiment(rows)
    console.print("latency …")
    latency(rows)
    print_results(
        "support: understanding messages",
        ["case", "accuracy", "per_shuffle", "macro_f1", "unlike_bitext", "unlike_wrong_and_sure", "p50_ms", "p99_ms"],
        rows,
        {},
        args.json,
    )


if __name__ == "__main__":
    main()
