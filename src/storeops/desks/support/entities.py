"""Reading a message before any model does: the order numbers, emails and SKUs it names, and
the greetings, thanks and sign-offs that carry no intent.

The intent learner sees ``intent_text``: the message without pleasantries, with each entity
replaced by a placeholder (an order number by ``ordernumber``, a SKU by ``item``, an email by
nothing). The same function prepares the training utterances, so "where is my order 2190" and
Bitext's "where is my order 732201349959" look alike to the learner, and "Hi, where is my order
2190? Thanks, Anna" looks like the question alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ORDER_PLACEHOLDER = "ordernumber"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")

# "#1001", "order 1001", "order no. 1001", "order number: A1001", "purchase 1001": a code with at
# least three digits after a word that says it is an order (Bitext says "purchase" as often).
_ORDER_WORD = r"(?:order|purchase|ordr|oder|orer)"
EXPLICIT_ORDER = re.compile(
    rf"(?:#\s?|\b{_ORDER_WORD}\s*(?:number|num|nr|no|n°|id|ref|reference)?\.?\s*[:#]?\s*)"
    r"(?P<number>[A-Za-z]{0,4}-?\d[\dA-Za-z-]*)",
    re.IGNORECASE,
)

_BARE = re.compile(r"(?<![\w$€£¥.,:/#+-])(\d{3,15})(?![\w%€$£]|[.,:/-]\d)")
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_NOT_ORDER_BEFORE = re.compile(
    r"(?:[$€£¥]|\b(?:eur|euros?|usd|gbp|dollars?|pounds?|size|qty|quantity|zip|zipcode|postcode|postal code|"
    r"code|phone|tel|mobile|call|room|flat|apt|apartment|suite|house|floor|unit|invoice|bill|rma|"
    r"tracking|tracking number|pin|iban|card|account|customer|sku|item|model|version|page|step|me at|reach me|"
    r"whatsapp|number is|"
    rf"in|since|from|until|till|by|before|after|year|around|about|over|under|of|{_MONTHS}))\s*[:#]?\s*$",
    re.IGNORECASE,
)
_UNITS_AFTER = re.compile(
    r"^\s*(?:x\b|pcs|pieces?|items?|units?|pairs?|eur|euros?|usd|dollars?|gbp|pounds?|bucks|kg|g\b|grams?|"
    r"lbs?|cm|mm|m\b|ml|l\b|km|miles?|%|percent|days?|weeks?|months?|years?|hours?|hrs?|mins?|minutes?|"
    r"seconds?|times|st\b|nd\b|rd\b|th\b|am\b|pm\b|calories|people|customers|orders)",
    re.IGNORECASE,
)
_ADDRESS_AFTER = re.compile(
    r"^\s*(?:\w+\s+){0,2}(?:street|st\b|road|rd\b|avenue|ave\b|lane|ln\b|way|drive|dr\b|boulevard|blvd|place|"
    r"square|strasse|straße|rue|via|calle)",
    re.IGNORECASE,
)


class _NotOrderAfter:
    """A bare number followed by a unit (a quantity) or a street (a house number) is no order number."""

    @staticmethod
    def match(after: str) -> bool:
        return bool(_UNITS_AFTER.match(after) or _ADDRESS_AFTER.match(after))


_NOT_ORDER_AFTER = _NotOrderAfter()
_ORDER_VERB = re.compile(
    r"\b(?:to|can i|could i|can we|i'd|i would|i will|i'll|i want|i wanna|gonna|wanted to|like to|we)\s*$",
    re.IGNORECASE,
)
SKU = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*[A-Z]{2})[A-Z0-9]{1,12}(?:-[A-Z0-9]{1,12}){1,4}(?![\w-])")
"""A product code the way stores write them: capitals and digits in dash-joined parts (SUN-HAT-L)."""


@dataclass(frozen=True)
class Entities:
    """What a message names."""

    order_numbers: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, list[str]]:
        return {"order_numbers": self.order_numbers, "emails": self.emails, "skus": self.skus}


def _bare_is_order_number(text: str, start: int, end: int) -> bool:
    """A bare number (three digits or more) is an order number unless its words say it is a
    price, a quantity, a size, a year, a date, a time, a phone number or an address."""
    before, after = text[max(0, start - 24) : start], text[end : end + 40]
    if _NOT_ORDER_BEFORE.search(before) or _NOT_ORDER_AFTER.match(after):
        return False
    number = text[start:end]
    if number.startswith("0") and len(number) >= 9:
        return False  # a phone number
    # A year said without a preposition ("hey has 2024 shipped") stays an order number only when
    # the store's numbers are not years: take 1900–2099 as a year when a month or "year" is near.
    year_context = re.search(rf"\b(?:{_MONTHS}|year|last|next|this)\b", before + " " + after, re.IGNORECASE)
    return not (len(number) == 4 and 1900 <= int(number) <= 2099 and year_context)


def extract_entities(text: str) -> Entities:
    """Order numbers (``#1001``, ``order 1001``, ``order no. 1001``, a bare ``1001`` when nothing
    says it is something else), emails and SKUs, in the order they appear, each once."""
    emails = _unique(EMAIL.findall(text))
    rest = EMAIL.sub(" ", text)
    skus = [s for s in _unique(SKU.findall(rest)) if not s.upper().startswith(("RMA-", "SIM-"))]
    orders: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for match in EXPLICIT_ORDER.finditer(rest):
        number = match.group("number").rstrip("-")
        said = match.group(0).lstrip()
        taken.append(match.span("number"))
        if not said.startswith("#") and (
            _ORDER_VERB.search(rest[: match.start()]) or _UNITS_AFTER.match(rest[match.end("number") :])
        ):
            continue  # "I want to order 200 t-shirts", "order 300 pieces": a verb and a quantity
            # (an address after it — "order 2264 to 3 rue Neuve" — does not make it a quantity)
        if sum(c.isdigit() for c in number) >= 3 and number not in skus:
            orders.append((match.start("number"), number))
    for match in _BARE.finditer(rest):
        if any(a <= match.start() < b for a, b in taken):
            continue
        if _bare_is_order_number(rest, match.start(), match.end()):
            orders.append((match.start(), match.group(1)))
    return Entities(_unique([n for _, n in sorted(orders)]), emails, skus)


def _unique(values: list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|heya|howdy|yo|hallo|greetings|good\s+(?:morning|afternoon|evening|day)|dear)"
    r"(?:\s+(?:there|team|all|guys|folks|everyone|support|sir|madam|sir or madam|customer service|friends?))*"
    r"(?:\s+[A-Za-z]+){0,2}?\s*[,!.:;-]+|(?:thanks|thank\s+you|thx|ty|many\s+thanks)(?:\s+(?:so\s+much|a\s+lot))?"
    r"\s*[,!.:;-]+|(?:hi|hello|hey|hiya|heya|yo|hallo|greetings|good\s+(?:morning|afternoon|"
    r"evening|day))(?:\s+(?:there|team|all|guys|folks|everyone|support))*\b)\s*",
    re.IGNORECASE,
)
_THANKS = (
    r"(?:many\s+|thanks?\s+)?(?:thanks|thank\s+you|thx|thnx|tnx|ty|cheers|much\s+appreciated|appreciate\s+it|"
    r"(?:kind|best|warm|warmest)?\s*regards|best\s+wishes|best|br|sincerely|yours(?:\s+(?:truly|sincerely))?)"
    r"(?:\s+(?:in\s+advance|a\s+lot|so\s+much|very\s+much|again|a\s+bunch|heaps))?"
)
_SIGN_OFF = re.compile(rf"(?:^|[\s,.!?;:-])\s*{_THANKS}\s*[,.!-]*\s*(?:[A-Za-z]+\s*[.!]*)?\s*$", re.IGNORECASE)
_THANKS_SENTENCE = re.compile(rf"^\s*{_THANKS}\b[^?]*$", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def strip_pleasantries(text: str) -> str:
    """The message without the greeting it opens with, the thanks or sign-off it ends with, and
    sentences that only thank (which carry no intent): "Hi, where is my order? Thanks, Anna"
    → "where is my order?". Empty when the message is only pleasantries ("hi", "thanks!")."""
    sentences = [s for s in _SENTENCES.split(text.strip()) if s]
    kept = [s for s in sentences if not _THANKS_SENTENCE.match(s)]
    stripped = " ".join(kept)
    for _ in range(2):  # "Hi! Good morning," / "thanks, regards, Anna"
        stripped = _GREETING.sub("", stripped, count=1)
        stripped = _SIGN_OFF.sub("", stripped)
    stripped = stripped.strip(" ,;:-")
    return stripped if re.search(r"\w", stripped) else ""


_CHAT_SPEAK = {
    "u": "you",
    "ya": "you",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "plez": "please",
    "thx": "thanks",
    "wheres": "where is",
    "whats": "what is",
    "hows": "how is",
    "whens": "when is",
    "cant": "can't",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "hasnt": "hasn't",
    "havent": "haven't",
    "isnt": "isn't",
    "wont": "won't",
    "wasnt": "wasn't",
    "im": "i'm",
    "ive": "i've",
    "r": "are",
    "abt": "about",
    "asap": "as soon as possible",
    "b4": "before",
    "2day": "today",
    "smth": "something",
    "sth": "something",
}
_CHAT_WORD = re.compile(r"(?<![\w'])(" + "|".join(sorted(map(re.escape, _CHAT_SPEAK), key=len)[::-1]) + r")(?![\w'])")


def intent_text(text: str) -> str:
    """What the intent learner reads: no pleasantries, entities as placeholders, chat spelling
    ("wheres", "u", "pls") written out."""
    entities = extract_entities(text)
    out = EMAIL.sub(" ", text)
    for sku in entities.skus:
        out = re.sub(rf"(?<![\w-]){re.escape(sku)}(?![\w-])", "item", out)
    for number in entities.order_numbers:
        out = re.sub(rf"(?:#\s?|(?<![\w-])){re.escape(number)}(?![\w-])", f" {ORDER_PLACEHOLDER}", out)
    out = strip_pleasantries(out)
    out = _CHAT_WORD.sub(lambda m: _CHAT_SPEAK[m.group(1).lower()], out.lower())
    return re.sub(r"\s+", " ", out).strip()
