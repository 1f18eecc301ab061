"""A seeded, deterministic synthetic store that emits the events a real one would, with ground
truth for every injected situation kept apart from what the desks see.

One module per desk (``orders``, ``support``, ``inventory``) adds that desk's events; returns,
marketing and vendors add theirs the same way. ``warehouse`` is the outside world acting on what
storeops sent it (an order ships only once storeops sent it to the warehouse), ``team`` a
simulated ops person resolving the orders desk's handoffs, ``run`` the day-by-day loop.
"""
