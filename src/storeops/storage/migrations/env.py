"""Alembic environment: runs online against the engine storeops hands over."""

from alembic import context

from storeops.desks import builtin_desks
from storeops.storage.schema import metadata

builtin_desks()  # the desks' own tables join the metadata when their packages load

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
