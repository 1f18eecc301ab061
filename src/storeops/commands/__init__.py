"""Every action a person or a script takes, one function each (as zulip's ``do_*``): it checks that
the actor may, changes state and writes its audit row, in one transaction. The web pages, the REST
API and the CLI are thin adapters over these functions, so an action is validated and audited the
same way whichever entry point it comes through.

| module | actions |
|---|---|
| ``handoffs`` | resolve, claim |
| ``policy`` | change one value |
| ``people`` | add a user, set a password, disable / enable, create and revoke API tokens |
| ``events`` | ingest native events, re-run a dead event |
| ``connect`` | import a live store page by page, re-run a dead outbox message (and check the connectors) |

Storefront imports (``storeops ingest shopify --backfill``) go through ``events.import_events``.
"""
