"""The support desk's hand-written rules: what always goes to a person, whatever the learner says,
and how a message is read before any model sees it."""

from __future__ import annotations

import pytest

from storeops.desks.support.entities import extract_entities, intent_text, strip_pleasantries
from storeops.desks.support.rules import HUMAN, phrase_topics, sarcastic, sensitive_topics, split_clauses


@pytest.mark.parametrize(
    "text",
    [
        "I want to speak to a human please",
        "can I talk with your manager",
        "get me a manager",
        "put me through to a supervisor",
        "I want to talk to somebody real",
        "is there a phone number I can call",
        "let me chat with an agent",
        "i want a human not a bot",
    ],
)
def test_asking_for_a_person_is_recognised(text: str) -> None:
    assert HUMAN.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "get me a refund",
        "the person who delivered it was kind",
        "what is your phone number for returns",
        "my manager needs an invoice",
        "put me on the newsletter",
    ],
)
def test_other_messages_are_not_read_as_asking_for_a_person(text: str) -> None:
    assert not HUMAN.search(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I want my money back or I'm calling my bank", "calling my bank"),
        ("im calling my bank to reverse the charge", "calling my bank"),
        ("I'll dispute the charge", "dispute"),
        ("if i dont get my money back im disputing it with my credit card", "disputing"),
        ("reverse the charge now", "reverse the charge"),
        ("i want a chargeback", "chargeback"),
        ("I will file a charge back", "charge back"),
        ("im going to report you to my bank for fraud", "report you to my bank"),
        ("I will contact my credit card company", "contact my credit card company"),
    ],
)
def test_chargeback_threats_are_sensitive(text: str, words: str) -> None:
    assert sensitive_topics(text) == {"chargeback": words}


@pytest.mark.parametrize(
    "text",
    [
        "can i pay by bank transfer",
        "my bank declined the card",
        "which bank account do i send the transfer to",
        "i was charged twice for order 1001",
        "the charge on my card is wrong",
        "please reverse the order of the items on the invoice",
        "my credit card was charged but no confirmation came",
        "I called the bank and they said the payment went through",
        "the chocolate melted a bit in transit",
    ],
)
def test_payment_questions_that_mention_a_bank_or_a_charge_are_not_sensitive(text: str) -> None:
    assert sensitive_topics(text) == {}


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("The charger you sold me caught fire and burned my hand", "safety"),
        ("the kettle gave me an electric shock", "safety"),
        ("the phone charger overheated", "safety"),
        ("My lawyer will be in touch", "legal"),
        ("Delete all my personal data under GDPR", "privacy"),
    ],
)
def test_safety_legal_and_privacy_are_sensitive(text: str, topic: str) -> None:
    assert topic in sensitive_topics(text)


@pytest.mark.parametrize(
    "text",
    [
        "oh great another week of waiting thanks a lot",
        "wow amazing service, 3 weeks and still no parcel",
        "fantastic, the parcel arrived broken. just perfect",
        "brilliant, its been ten days and nothing",
    ],
)
def test_praise_next_to_trouble_is_sarcasm(text: str) -> None:
    assert sarcastic(text)


@pytest.mark.parametrize(
    "text",
    [
        "great, thanks! when will it arrive",
        "wow fast delivery, arrived a day early",
        "perfect, i will wait for the refund then",
        "still no parcel, can you check",  # trouble without praise: the learner and sentiment judge it
        "thanks a lot for the quick help",
        "thanks a lot, the parcel came late but all good",
    ],
)
def test_praise_or_trouble_alone_is_not_sarcasm(text: str) -> None:
    assert not sarcastic(text)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Where is my order #1001?", ["1001"]),
        ("order 1001 please", ["1001"]),
        ("order no. 1001", ["1001"]),
        ("my order number: A1001 has not come", ["A1001"]),
        ("purchase 732201349959 status", ["732201349959"]),
        ("has 5521 shipped yet", ["5521"]),
        ("Hi, where is my order 2190? Also order 2191", ["2190", "2191"]),
        ("hey has 2024 shipped", ["2024"]),
    ],
)
def test_order_numbers_are_found_in_the_ways_customers_write_them(text: str, numbers: list[str]) -> None:
    assert extract_entities(text).order_numbers == numbers


@pytest.mark.parametrize(
    "text",
    [
        "i want to order 200 t-shirts",  # a verb and a quantity
        "I ordered 2 items for 150 eur on 12/05/2024",  # a price, a date
        "it cost $160",
        "reimburse 1499 dollars",
        "it took 300 days",
        "I live at 221 baker street",
        "size 105",
        "call me at 0612345678",
        "the 10:30 delivery",
        "my order arrived in march 2024",
        "since 2023 i have been a customer",
        "in 2024 i bought a hat",
        "order 12",  # fewer than three digits
    ],
)
def test_numbers_that_are_not_order_numbers_are_left_alone(text: str) -> None:
    assert extract_entities(text).order_numbers == []


def test_emails_and_skus_are_entities_and_an_email_never_hides_an_order_number() -> None:
    entities = extract_entities("I'm anna.b+shop1990@example.com, is SUN-HAT-L back in stock for order 1042?")
    assert entities.emails == ["anna.b+shop1990@example.com"]
    assert entities.skus == ["SUN-HAT-L"]
    assert entities.order_numbers == ["1042"]
    assert extract_entities("return number RMA-1A2B3C4D").skus == []


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("Hi, where is my order? Thanks, Anna", "where is my order?"),
        ("hello, any update on order #3310? thanks", "any update on order #3310?"),
        ("good morning, just wondering when it will arrive. kind regards, anna", "just wondering when it will arrive."),
        ("thanks for the help earlier. one more thing, can i pay later?", "one more thing, can i pay later?"),
        ("Dear Sir or Madam, I want a refund. Best regards, John", "I want a refund."),
        ("yo where's my stuff", "where's my stuff"),
        ("hi", ""),
        ("Thanks!", ""),
        ("hey has it shipped yet", "has it shipped yet"),
        ("highlights of the sale?", "highlights of the sale?"),  # "hi…" is only a greeting as a word
    ],
)
def test_greetings_thanks_and_sign_offs_carry_no_intent(text: str, left: str) -> None:
    assert strip_pleasantries(text) == left


def test_the_learner_reads_entities_as_placeholders_and_chat_spelling_written_out() -> None:
    assert intent_text("Hi, where is my order #2190? thx") == "where is my order ordernumber?"
    assert intent_text("wheres my parcel pls") == "where is my parcel please"
    assert intent_text("can u send SUN-HAT-L to anna@example.com") == "can you send item to"


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("has my package shipped yet", ["order_status"]),
        ("where is my order ordernumber", ["order_status"]),
        ("any update on order ordernumber?", ["order_status"]),
        ("order no. ordernumber", ["order_status"]),
        ("ordernumber?", ["order_status"]),
        ("stop my order before it ships", ["cancellation"]),
        ("i moved, please send the parcel to my new flat instead", ["address_change"]),
        ("the shoes don't fit, how do i send them back", ["returns"]),
        ("what is the return window", ["returns"]),
        ("my card got declined at checkout", ["payment"]),
        ("can i pay with apple pay", ["payment"]),
        ("need a receipt for my company", ["invoice"]),
        ("i can't sign in to my account", ["account"]),
    ],
)
def test_phrases_name_topics_the_training_data_never_shows(text: str, topics: list[str]) -> None:
    assert phrase_topics(text) == topics


@pytest.mark.parametrize(
    "text",
    [
        "how long does delivery take to ireland",
        "i returned the item two weeks ago and still no money",
        "when do i get my money back for the return",
        "what payment methods do you have",
        "where is your shop",
        "i paid with paypal",
        "the address on the invoice is fine",
        "cancel order ordernumber",
    ],
)
def test_phrases_stay_quiet_where_the_learner_knows_best(text: str) -> None:
    assert phrase_topics(text) == []


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("do you ship to norway and can i pay with paypal", ["do you ship to norway", "can i pay with paypal"]),
        ("where is my order? also i need an invoice", ["where is my order?", "i need an invoice"]),
        ("i want to cancel and get a refund", ["i want to cancel and get a refund"]),
        ("salt and pepper shakers: do you have them", ["salt and pepper shakers: do you have them"]),
    ],
)
def test_a_message_splits_where_a_new_question_starts(text: str, clauses: list[str]) -> None:
    assert split_clauses(text) == clauses
