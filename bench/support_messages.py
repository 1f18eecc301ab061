"""Messages written the way customers write, to measure the support desk beyond Bitext's templates.

Written by hand before any rule of the desk was tuned on them (issue 11), in two halves of
like mix: ``CUSTOMER_STYLE_DEV`` may be looked at message by message while improving the desk;
``CUSTOMER_STYLE_HELD_OUT`` is scored only as a whole, so it says how the desk does on messages
nobody tuned it for.

A label is the outcome a good desk reaches:
- a topic (``order_status``, ``returns``, …): the desk reads the message as that topic (for
  ``human``: it sees the customer asked for a person);
- ``a+b``: two questions in one — the desk sees both topics (and hands it over as multi-issue);
- ``angry``: sarcasm or anger — the desk reads it as negative and hands it to a person;
- ``sensitive``: a chargeback, legal or safety threat — the desk flags a sensitive topic.
"""

from __future__ import annotations

CUSTOMER_STYLE_DEV: list[tuple[str, str]] = [
    ("hi where is my order 4471", "order_status"),
    ("hello, any update on order #3310? thanks", "order_status"),
    ("ordered on monday still nothing", "order_status"),
    ("hey has 5521 shipped yet", "order_status"),
    ("wheres my parcel", "order_status"),
    ("can u check my order status pls", "order_status"),
    ("hi i want to cancel my order", "cancellation"),
    ("pls cancel order 8812 i ordered the wrong thing", "cancellation"),
    ("dont want it anymore cancel", "cancellation"),
    ("i need to change the delivery address on my order", "address_change"),
    ("i gave the wrong adress can you update it", "address_change"),
    ("how long does delivery take to ireland", "delivery"),
    ("do u ship to switzerland", "delivery"),
    ("is there express shipping", "delivery"),
    ("how do i return something", "returns"),
    ("can i return a sale item", "returns"),
    ("whats the return window", "returns"),
    ("how do i get a refund", "refund"),
    ("still waiting for my refund its been 2 weeks", "refund"),
    ("do you take paypal", "payment"),
    ("my payment keeps failing", "payment"),
    ("can i get an invoice for order 2231", "invoice"),
    ("i need a vat invoice for my company", "invoice"),
    ("i forgot my password", "account"),
    ("how do i delete my account", "account"),
    ("cant log in", "account"),
    ("can i speak to a real person", "human"),
    ("i want a human not a bot", "human"),
    ("i want to change the colour on my order to blue", "order_change"),
    ("can i add a second hat to my order", "order_change"),
    ("where is my order and can i still change the address", "order_status+address_change"),
    ("i want to cancel order 7710. also how do i reset my password", "cancellation+account"),
    ("do you ship to norway and can i pay with paypal", "delivery+payment"),
    ("oh great another week of waiting thanks a lot", "angry"),
    ("wow amazing service, 3 weeks and still no parcel", "angry"),
    ("this is the worst shop ive ever ordered from", "angry"),
    ("im calling my bank to reverse the charge", "sensitive"),
    ("if i dont get my money back im disputing it with my credit card", "sensitive"),
    ("the kettle you sent leaks and gave me an electric shock", "sensitive"),
    ("good morning, just wondering when my order 6109 will arrive. kind regards, anna", "order_status"),
]

CUSTOMER_STYLE_HELD_OUT: list[tuple[str, str]] = [
    ("hey where is order 9203", "order_status"),
    ("hi there my package hasnt arrived yet", "order_status"),
    ("tracking hasnt updated in 5 days whats going on with my order", "order_status"),
    ("any news on my order? thx", "order_status"),
    ("order 1188 status?", "order_status"),
    ("hello i would like to cancel order 3391 please", "cancellation"),
    ("cancel my order asap", "cancellation"),
    ("changed my mind pls cancel", "cancellation"),
    ("i moved house can you send my order to the new address", "address_change"),
    ("typo in my street name on the order", "address_change"),
    ("how much is shipping to the uk", "delivery"),
    ("when would it arrive if i order today", "delivery"),
    ("do you deliver on saturdays", "delivery"),
    ("hi how can i send back shoes that dont fit", "returns"),
    ("what is ur returns policy", "returns"),
    ("do i have to pay for return shipping", "returns"),
    ("when do i get my money back for the return", "refund"),
    ("refund still not on my card", "refund"),
    ("can i pay by bank transfer", "payment"),
    ("card declined but money was taken??", "payment"),
    ("where do i find my receipt", "invoice"),
    ("please send me the invoice for my last order", "invoice"),
    ("reset password link not working", "account"),
    ("how do i change my email on my account", "account"),
    ("i want to talk to someone", "human"),
    ("let me speak with a manager", "human"),
    ("i need to swap the size in my order from s to m", "order_change"),
    ("can i remove one item from my order before it ships", "order_change"),
    ("my order 4410 hasnt come and i also need an invoice for it", "order_status+invoice"),
    ("how do i return the jacket and when will i get my refund", "returns+refund"),
    ("can i pay with klarna? also do you ship to sweden", "payment+delivery"),
    ("fantastic, the parcel arrived broken. just perfect", "angry"),
    ("yeah right 2 day delivery lol its been 10 days", "angry"),
    ("you people are useless", "angry"),
    ("ill be contacting my lawyer about this", "sensitive"),
    ("i want a chargeback", "sensitive"),
    ("im going to report you to my bank for fraud", "sensitive"),
    ("the phone charger overheated and melted", "sensitive"),
    ("hi! is it possible to get the order sent to my work address instead? cheers", "address_change"),
    ("thanks for the help earlier. one more thing, do you accept apple pay?", "payment"),
]
