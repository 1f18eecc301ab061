"""Support-desk understanding on real data, against baselines measured in the same run.

    python -m bench.support [--json]

- intents: Bitext (6,480 utterances, 27 intents), stratified 80/20 split with seed 0; accuracy
  and macro-F1 of a TF-IDF + logistic regression baseline (word 1–2-grams, C=10) and of
  storeops' learner (word and character n-grams, reading the text as the desk gives it: without
  greetings and sign-offs, entities as placeholders); each learner alone on 30 messages written
  unlike Bitext's templates (UNLIKE_BITEXT), scored on the topic, with the share it gets wrong
  at or above the policy's intent confidence.
- the desk's reading: everything the desk does before it looks at the database (entities,
  pleasantries, phrase rules, per-clause learner, sentiment, sensitive topics, the knowledge
  base's similarity), with the learner fitted on the 80 % part: its topic accuracy on the Bitext
  20 % (a delivery-period question about "my parcel" counts as order status, as the desk reads it
  on purpose) and the share of those single-intent messages it reads as two issues; on
  UNLIKE_BITEXT (goal: ≥ 28/30 right, ≤ 1/30 wrong and sure) and on two halves of messages
  written the way customers write (``bench/support_messages.py``): right, and wrong yet answered
  alone ("wrong and sure"). The rules were written looking at UNLIKE_BITEXT and the dev half;
  the held-out half was written before any rule and is scored only as a whole.
- sentiment: UCI Amazon sentences, 10-fold cross-validation repeated over three shuffles
  (seeds 0, 1, 2: one split's luck moves the figure by about ±0.005 on 1,000 sentences, so the
  mean of the three is the figure and each repeat is printed too); baseline TF-IDF + LR trained
  on the Amazon folds; storeops' learner trained on the Amazon folds plus Yelp and Bitext requests.
- first response: time for storeops to understand one message, p50/p99 over 1,000 messages.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.common import console, print_results
from bench.support_messages import CUSTOMER_STYLE_DEV, CUSTOMER_STYLE_HELD_OUT
from storeops.datasets import bitext_utterances, sentiment_sentences
from storeops.desks.support.entities import intent_text, strip_pleasantries
from storeops.desks.support.handlers import ORDER_TOPICS, PERSONAL_TOPICS
from storeops.desks.support.knowledge import knowledge_base, search_text
from storeops.desks.support.nlu import (
    TOPICS,
    SupportModels,
    fit_sentiment,
    intent_pipeline,
    sentiment_training_set,
    train_support_models,
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


def _learner_on_unlike(learner: Any, read: Any, threshold: float) -> tuple[float, float]:
    """The learner alone on UNLIKE_BITEXT: share of right topics, share wrong yet sure."""
    probabilities = learner.predict_proba([read(t) for t, _ in UNLIKE_BITEXT])
    unlike = [(learner.classes_[row.argmax()], float(row.max())) for row in probabilities]
    right = [TOPICS[p] == topic for (p, _), (_, topic) in zip(unlike, UNLIKE_BITEXT, strict=True)]
    # What matters in the desk: a wrong topic it is sure enough of to answer (below the policy's
    # confidence it hands over as low_confidence instead of guessing).
    sure_wrong = sum(not ok and confidence >= threshold for ok, (_, confidence) in zip(right, unlike, strict=True))
    return sum(right) / len(UNLIKE_BITEXT), sure_wrong / len(UNLIKE_BITEXT)


def intents(rows: list[dict[str, object]]) -> tuple[Any, list[str], list[str]]:
    """Both learners on the Bitext split and, alone, on the unlike-Bitext messages; returns the
    storeops learner fitted on the training part and the held-back texts and intents."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    threshold = SupportPolicy().intent_confidence_threshold
    data = bitext_utterances()
    texts, labels = [t for _, _, t in data], [i for i, _, _ in data]
    x_train, x_test, y_train, y_test = train_test_split(texts, labels, test_size=0.2, random_state=0, stratify=labels)
    learners: dict[str, tuple[Any, Any]] = {
        "baseline: TF-IDF words + LR": (
            make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(C=10, max_iter=2000)),
            lambda text: text,
        ),
        # storeops' learner reads what the desk gives it: no pleasantries, entities as placeholders.
        "storeops: words + characters + LR": (intent_pipeline(), intent_text),
    }
    for name, (learner, read) in learners.items():
        learner.fit([read(t) for t in x_train], y_train)
        predicted = learner.predict([read(t) for t in x_test])
        robust, sure_wrong = _learner_on_unlike(learner, read, threshold)
        rows.append(
            {
                "case": f"intent — {name}",
                "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
                "macro_f1": round(float(f1_score(y_test, predicted, average="macro")), 4),
                "unlike_bitext": round(robust, 3),
                "unlike_wrong_and_sure": round(sure_wrong, 3),
            }
        )
    return learners["storeops: words + characters + LR"][0], x_test, y_test


def judge(models: SupportModels, text: str, label: str, policy: SupportPolicy) -> dict[str, Any]:
    """How the desk reads ``text`` (as from a sender with no order on file) against ``label``
    (see ``bench.support_messages``): right, and whether it would answer on its own."""
    understanding = models.understand(text, min_confidence=policy.issue_confidence)
    top = understanding.intents[0] if understanding.intents else None
    topic = top.topic if top else None
    handed_over = bool(
        understanding.sentiment_score < policy.negative_sentiment_threshold
        or len(understanding.topics) >= 2
        or understanding.sensitive
        or understanding.asked_for_human
        or (top is None and not understanding.pleasantry_only)
        or (top is not None and top.confidence < policy.intent_confidence_threshold)
        or topic in PERSONAL_TOPICS
    )
    if not handed_over and topic is not None and topic not in ORDER_TOPICS:
        sure_of = top.intent if top is not None and top.confidence >= policy.issue_confidence else None
        match = knowledge_base(policy.knowledge_base).best(
            search_text(strip_pleasantries(text) or text, sure_of), topic
        )
        handed_over = match.similarity < policy.knowledge_min_similarity
    wanted = label.split("+")
    if label == "angry":
        right = understanding.sentiment_score < policy.negative_sentiment_threshold
    elif label == "sensitive":
        right = bool(understanding.sensitive)
    elif label == "human":
        right = understanding.asked_for_human
    elif len(wanted) > 1:
        right = set(wanted) <= set(understanding.topics)
    else:
        right = topic == label
    # Wrong and sure: the desk would answer by itself, on a topic it was not asked about.
    wrong_and_sure = not handed_over and not right and topic not in wanted
    return {
        "text": text,
        "label": label,
        "read": understanding.topics,
        "answers": not handed_over,
        "right": right,
        "wrong_and_sure": wrong_and_sure,
    }


def desk(
    rows: list[dict[str, object]], summary: dict[str, Any], models: SupportModels, x_test: list[str], y_test: list[str]
) -> None:
    """The desk's whole reading (entities, rules, learner, sentiment) on the Bitext test part and
    on messages written unlike Bitext."""
    policy = SupportPolicy()
    read = [models.understand(text, min_confidence=policy.issue_confidence) for text in x_test]
    # A question about when "my parcel" arrives is read as order status on purpose (docs/support.md).
    accepted = [{TOPICS[y], "order_status"} if y == "delivery_period" else {TOPICS[y]} for y in y_test]
    right = sum(bool(u.intents) and u.intents[0].topic in ok for u, ok in zip(read, accepted, strict=True))
    multi = sum(len(u.topics) >= 2 for u in read)
    sets = {
        "unlike_bitext": UNLIKE_BITEXT,
        "customer_style_dev": CUSTOMER_STYLE_DEV,
        "customer_style_held_out": CUSTOMER_STYLE_HELD_OUT,
    }
    row: dict[str, object] = {
        "case": "desk reading — storeops (entities, rules, learner, sentiment)",
        "accuracy": round(right / len(x_test), 4),
    }
    figures: dict[str, Any] = {
        "bitext_topic_accuracy": round(right / len(x_test), 4),
        "bitext_read_as_multi_issue": round(multi / len(x_test), 4),
    }
    for name, messages in sets.items():
        judged = [judge(models, text, label, policy) for text, label in messages]
        good = sum(j["right"] for j in judged)
        bad = sum(j["wrong_and_sure"] for j in judged)
        alone = sum(j["right"] and j["answers"] for j in judged)
        figures[name] = {"right": good, "right_and_answered_alone": alone, "wrong_and_sure": bad, "of": len(judged)}
        if name != "customer_style_held_out":  # the held-out half is scored only as a whole
            figures[name]["misses"] = [j for j in judged if not j["right"]]
        column = {"unlike_bitext": "unlike_bitext", "customer_style_dev": "dev", "customer_style_held_out": "held_out"}[
            name
        ]
        row[column] = round(good / len(judged), 3)
        row[f"{column}_wrong_and_sure" if column != "unlike_bitext" else "unlike_wrong_and_sure"] = round(
            bad / len(judged), 3
        )
    rows.append(row)
    unlike = figures["unlike_bitext"]
    figures["goals"] = {
        "unlike_bitext_right": f"{unlike['right']}/30 (goal ≥ 28/30)",
        "unlike_bitext_wrong_and_sure": f"{unlike['wrong_and_sure']}/30 (goal ≤ 1/30)",
        "met": unlike["right"] >= 28 and unlike["wrong_and_sure"] <= 1,
    }
    summary["desk"] = figures
    for name in ("unlike_bitext", "customer_style_dev"):
        for miss in figures[name]["misses"]:
            console.print(
                f"  {name} miss: {miss['text']!r} — wanted {miss['label']}, read {miss['read']}"
                + (" and answered" if miss["answers"] else ", handed over")
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


def latency(rows: list[dict[str, object]], models: SupportModels) -> None:
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
    summary: dict[str, Any] = {}
    console.print("intents …")
    learner, x_test, y_test = intents(rows)
    console.print("training the sentiment model on everything (for the desk's reading and the latency) …")
    full = train_support_models("bench")
    console.print("the desk's reading …")
    desk(rows, summary, SupportModels(learner, full.sentiment, "bench-split"), x_test, y_test)
    console.print("sentiment, 10 folds × 3 shuffles …")
    sentiment(rows)
    console.print("latency …")
    latency(rows, full)
    print_results(
        "support: understanding messages",
        [
            "case",
            "accuracy",
            "per_shuffle",
            "macro_f1",
            "unlike_bitext",
            "unlike_wrong_and_sure",
            "dev",
            "dev_wrong_and_sure",
            "held_out",
            "held_out_wrong_and_sure",
            "p50_ms",
            "p99_ms",
        ],
        rows,
        summary,
        args.json,
    )


if __name__ == "__main__":
    main()
