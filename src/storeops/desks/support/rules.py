"""The support desk's hand-written rules: what no learner should be needed for, and what the
shipped training data (Bitext's templates) never shows.

Each rule is a pure function of the message text, unit-tested with positives and near misses in
``tests/unit/test_support_rules.py``. The topic phrases read ``entities.intent_text`` (lower
case, chat spelling written out, an order number as ``ordernumber``).
"""

from __future__ import annotations

import re

ANGER = re.compile(
    r"\b(furious|ridiculous|unacceptable|worst|terrible|awful|disgusting|scam|useless|incompetent|pathetic|"
    r"fed up|sick of|a joke|angry|outraged|livid|fuck\w*|shit\w*|crap|damn|thanks for nothing|yeah right)\b",
    re.IGNORECASE,
)

# Sarcasm: praise next to trouble ("oh great, another week of waiting"; "wow amazing service, 3
# weeks and still no parcel"). Praise alone, or trouble alone, is not sarcasm.
PRAISE = re.compile(
    r"\b(?:oh\s+)?(?:great|wow|fantastic|amazing|brilliant|perfect|lovely|wonderful|awesome|superb|excellent|"
    r"nice\s+one|well\s+done|bravo|thanks\s+a\s+lot|thanks\s+so\s+much|love\s+(?:it|that)|so\s+helpful)\b",
    re.IGNORECASE,
)
TROUBLE = re.compile(
    r"\b(?:still\s+(?:no|not|nothing|waiting)|another\s+(?:week|day|month|delay|excuse)|broken|damaged|smashed|"
    r"cracked|never\s+(?:arrived|came|showed)|(?:it'?s|its|it\s+has)\s+been\s+\w+\s+(?:days|weeks|months)|"
    r"(?:\d+|two|three|four|five|six)\s+(?:days|weeks|months)\s+and\s+still|of\s+waiting|lost\s+(?:my|the)|"
    r"wrong\s+(?:item|size|colou?r|order)|no\s+(?:parcel|package|refund|reply|answer|response))\b",
    re.IGNORECASE,
)

_SENSITIVE: dict[str, str] = {
    "chargeback": (
        r"charge\s?backs?|disput(?:e|es|ed|ing)|"
        r"(?:call|calling|contact|contacting|ring|ringing|phone|phoning|tell|telling|go\s+to|going\s+to|"
        r"report\w*\s+(?:you|this|it)\s+to)\s+my\s+(?:bank|card\s+issuer|credit\s+card\s+company|card\s+company)|"
        r"(?:reverse|reversing|claw\s+back|block|blocking)\s+(?:the|my|this|that)\s+(?:charge|payment|transaction)|"
        r"report\w*\s+(?:you|this|it|your\s+\w+)\s+(?:to\s+[\w\s]{1,20}?\s+)?for\s+fraud|you\s+(?:are|re)\s+frauds?"
    ),
    "legal": r"lawyers?|attorneys?|legal\s+action|solicitor|sue|suing|court|trading\s+standards",
    "safety": (
        r"injur\w*|burn\w*|fire|hurt|unsafe|dangerous|electric\s+shock|electrocut\w*|shocked\s+me|overheat\w*|"
        r"smok(?:e|ed|ing)|explod\w*|sparks?|sparking|allerg\w*|poison\w*"
    ),
    "privacy": r"gdpr|privacy|personal\s+data|delete\s+(?:all\s+)?my\s+(?:data|personal)",
    "harassment": r"harass\w*|threat\w*",
}
SENSITIVE = {name: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE) for name, pattern in _SENSITIVE.items()}
"""Topics a person must handle, by kind: chargeback threats, legal threats, safety, privacy, harassment."""

_SOMEONE = (
    r"(?:an?\s+|your\s+|some\s+)?(?:human|person|real person|agent|someone|somebody|manager|supervisor|"
    r"representative|rep|someone real|somebody real)"
)
HUMAN = re.compile(
    rf"\b(?:(?:speak|talk|chat)\s+(?:to|with)\s+{_SOMEONE}|(?:get|put)\s+me\s+(?:through\s+to\s+)?{_SOMEONE}"
    r"|(?:someone|somebody)\s+real|phone\s+number\s+I\s+can\s+call|(?:a|real)\s+human\s+(?:not|instead\s+of)\s+a\s+bot"
    r"|(?:want|need)\s+(?:a\s+)?(?:human|real\s+person))\b",
    re.IGNORECASE,
)

_OWN = r"(?:my|our|the)\s+(?:\w+\s+)?(?:order|parcel|package|stuff|things|delivery|shipment|items?|purchase|goods)"
TOPIC_PHRASES: dict[str, re.Pattern[str]] = {
    "order_status": re.compile(
        rf"\bwhere\s+(?:is|are)\s+{_OWN}\b"
        rf"|\b(?:any|an)\s+(?:update|news)\s+(?:on|about|regarding|for)\s+(?:{_OWN}|order|ordernumber)\b"
        rf"|\b(?:status|whereabouts)\s+of\s+{_OWN}\b|\border\s+(?:status|tracking)\b"
        rf"|\b(?:has|have|did|was|were|is)\s+(?:{_OWN}|it|they|(?:order\s+)?ordernumber)\s+(?:been\s+)?"
        r"(?:shipped|dispatched|sent|posted|sent\s+out)\b"
        rf"|\b(?:{_OWN}|ordernumber)\b[^.?!]*\b(?:still\s+not|not\s+(?:here|arrived|received)|"
        r"hasn't\s+(?:arrived|come|shown\s+up)|has\s+not\s+(?:arrived|come))\b"
        r"|\bordered\b[^.?!]*\bstill\s+(?:nothing|not\s+here|no\s+sign)\b"
        r"|\b(?:hasn't|has\s+not|haven't|have\s+not)\s+(?:arrived|come|received\s+(?:it|my\s+order))\b"
        # nothing but a reference to an order: "order no. 1001", "#1001?", "my order 1001 please"
        r"|^\s*(?:(?:my|the)\s+)?(?:(?:order|purchase)\s*(?:no\.?|number|nr\.?|num|#)?\s*[:#]?\s*)?ordernumber"
        r"\s*(?:status|please|[?!.])*\s*$",
    ),
    "cancellation": re.compile(
        r"\bstop\s+(?:my|the|this)\s+order\b|\b(?:don't|do\s+not)\s+(?:send|ship)\s+(?:it|my\s+order|the\s+order)\b",
    ),
    "address_change": re.compile(
        r"\b(?:new|different|work|wrong|correct|old)\s+(?:delivery\s+|shipping\s+)?(?:address|adress|street|flat|"
        r"apartment|house|postcode|zip\s+code)\b|\bi\s+(?:have\s+)?moved\b|\btypo\s+in\s+(?:my|the)\s+(?:\w+\s+)?"
        r"(?:address|street|name)\b|\b(?:change|update|fix|correct)\s+(?:the|my)\s+(?:delivery\s+|shipping\s+)?"
        r"(?:address|adress|street)\b",
    ),
    "returns": re.compile(
        r"\b(?:send|ship|post|mail)\s+(?:it|them|this|these|those|the\s+\w+|my\s+\w+)\s+back\b"
        r"|\breturn(?:ing)?\s+(?:it|them|this|these|those|an?\s+\w+|the\s+\w+|my\s+\w+|something|items?|products?)\b"
        r"|\breturns?\s+(?:policy|policies|window|period|label|shipping|form|address|process)\b"
        r"|\b(?:can|could|may|do|how\s+do|how\s+can)\s+(?:i|we)\s+(?:still\s+)?return\b",
    ),
    "payment": re.compile(
        r"\b(?:card|payment)\s+(?:was\s+|got\s+|keeps\s+(?:getting\s+)?|is\s+)?(?:declined|rejected|refused|failing|failed)\b"
        r"|\b(?:pay|paying)\s+(?:with|by|via|using|through)\b"
        r"|\b(?:accept|take)\s+(?:apple\s+pay|google\s+pay|paypal|klarna|credit\s+cards?|cards?|visa|mastercard|amex)\b",
    ),
    "invoice": re.compile(r"\breceipts?\b|\bvat\s+invoice\b"),
    "account": re.compile(r"\b(?:can't|cannot|can\s+not|unable\s+to)\s+(?:log|sign)\s*(?:in|on|into)\b"),
}
"""Phrases that name a topic beyond doubt, for what Bitext's templates do not teach (it has no
"return this item" intent; its order-status utterances never say "has it shipped yet")."""

OWN_ORDER = re.compile(
    r"\b(?:my|our)\s+(?:\w+\s+)?(?:order|parcel|package|stuff|things|delivery|shipment|items?|purchase|goods)\b"
    r"|\bordernumber\b"
)
"""The message is about the customer's own order, not about delivery in general."""

_QUESTION_START = (
    r"(?:can|could|do|does|did|how|when|where|what|why|is|are|will|would|i\s+(?:also\s+)?(?:need|want|would\s+like)"
    r"|please|also)"
)
CLAUSES = re.compile(
    rf"(?<=[.!?])\s+|\b(?:also|and\s+also|besides|plus|another\s+thing|one\s+more\s+thing)\b[,:]?\s*"
    rf"|,?\s+and\s+(?={_QUESTION_START}\b)",
    re.IGNORECASE,
)
"""Where one question ends and the next begins: sentences, "also …", "… and can I …"."""


def sensitive_topics(text: str) -> dict[str, str]:
    """The sensitive topics a message raises, each with the words that raised it."""
    found: dict[str, str] = {}
    for name, pattern in SENSITIVE.items():
        match = pattern.search(text)
        if match:
            found[name] = match.group(0).lower()
    return found


def sarcastic(text: str) -> bool:
    """Praise next to trouble: "oh great, another week of waiting"."""
    return bool(PRAISE.search(text) and TROUBLE.search(text))


def phrase_topics(clause: str) -> list[str]:
    """The topics a clause (as ``intent_text`` writes it) names beyond doubt, in a fixed order."""
    return [topic for topic, pattern in TOPIC_PHRASES.items() if pattern.search(clause)]


def split_clauses(text: str) -> list[str]:
    """The parts of a message that may each ask something."""
    return [c.strip(" ,;") for c in CLAUSES.split(text) if c and len(c.strip(" ,;")) > 3]
