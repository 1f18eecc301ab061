"""The support desk's hand-written rules: what always goes to a person, whatever the learner says."""

from __future__ import annotations

import pytest

from storeops.desks.support.nlu import HUMAN


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
