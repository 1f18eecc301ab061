"""The store's knowledge base: Markdown pages of questions (``## …``) and their answers,
answered by retrieval with a similarity, never by guessing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from storeops.errors import PolicyError

BUILT_IN = Path(__file__).parent / "knowledge"


@dataclass(frozen=True)
class Entry:
    question: str
    answer: str
    page: str
    topics: tuple[str, ...] = ()
    """The message topics the page answers (its ``Topics:`` line); empty means any."""


@dataclass(frozen=True)
class Match:
    entry: Entry
    similarity: float


def read_pages(folder: Path) -> list[Entry]:
    """Every ``## question`` with the text under it, from the ``*.md`` files of ``folder``."""
    if not folder.is_dir():
        raise PolicyError(f"[support] knowledge_base: {folder} is not a folder of Markdown pages")
    entries: list[Entry] = []
    for page in sorted(folder.glob("*.md")):
        question: str | None = None
        lines: list[str] = []
        topics: tuple[str, ...] = ()
        for line in [*page.read_text(encoding="utf-8").splitlines(), "## "]:
            if line.startswith("## "):
                if question and " ".join(lines).strip():
                    answer = " ".join(part.strip() for part in lines if part.strip())
                    entries.append(Entry(question, answer, page.name, topics))
                question, lines = line[3:].strip(), []
            elif question is None and line.lower().startswith("topics:"):
                topics = tuple(t.strip() for t in line.split(":", 1)[1].split(",") if t.strip())
            elif question is not None and not line.startswith("#"):
                lines.append(line)
    if not entries:
        raise PolicyError(f"[support] knowledge_base: no '## question' sections in {folder}/*.md")
    return entries


class KnowledgeBase:
    """TF-IDF retrieval over questions and answers (words, and character n-grams that survive
    typos), among the pages that answer the message's topic."""

    def __init__(self, entries: list[Entry]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_union

        self.entries = entries
        self.vectorizer: Any = make_union(
            TfidfVectorizer(stop_words="english", sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
        )
        self.matrix = self.vectorizer.fit_transform([f"{e.question} {e.question} {e.answer}" for e in entries])

    def best(self, text: str, topic: str | None = None) -> Match:
        """The closest entry (on pages for ``topic`` when any are) and its similarity (0–1)."""
        scores = (self.matrix @ self.vectorizer.transform([text]).T).toarray().ravel() / 2
        allowed = [i for i, e in enumerate(self.entries) if topic in e.topics] if topic else []
        candidates = allowed or range(len(self.entries))
        index = max(candidates, key=lambda i: scores[i])
        return Match(self.entries[index], round(float(scores[index]), 3))


PLAIN_QUESTIONS = {
    "get_refund": "How do I get a refund?",
    "track_refund": "When will I get my refund?",
    "check_refund_policy": "What is your return policy?",
    "get_invoice": "Where do I find my invoice?",
    "check_invoice": "Where do I find my invoice?",
    "delivery_options": "Which shipping options do you offer?",
    "delivery_period": "How long does delivery take?",
    "check_payment_methods": "Which payment methods do you accept?",
    "payment_issue": "My payment failed.",
    "recover_password": "How do I reset my password?",
    "create_account": "How do I create an account?",
    "edit_account": "How do I change my account?",
    "delete_account": "How do I close my account?",
    "switch_account": "How do I change my account?",
    "registration_problems": "How do I create an account?",
    "newsletter_subscription": "How do I subscribe or unsubscribe from the newsletter?",
    "check_cancellation_fee": "Is there a cancellation fee?",
    "place_order": "How do I place an order?",
    "review": "How do I leave a review?",
}
"""How a customer plainly asks each intent. Bitext's (and customers') wording often shares no
word with a store's page ("I expect a restitution of $160" against "When will I get my
refund?"), so when the learner is sure of the intent its plain question joins the message in the
search; a message the learner is unsure of is searched for as it is."""


def search_text(text: str, intent: str | None) -> str:
    """What to search the pages for: the message, and the plain question of a sure intent."""
    plain = PLAIN_QUESTIONS.get(intent or "")
    return f"{text} {plain}" if plain else text


@cache
def knowledge_base(folder: str) -> KnowledgeBase:
    """The knowledge base of ``folder`` (the built-in one when empty), read once per process."""
    return KnowledgeBase(read_pages(Path(folder) if folder else BUILT_IN))
