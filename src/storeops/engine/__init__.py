"""The engine: one durable loop in which an event arrives, a desk decides, automation acts or a
person is handed the case, and everything is recorded. Desks plug in through ``Desk``."""
