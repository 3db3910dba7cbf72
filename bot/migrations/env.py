"""Alembic's environment: migrations run on the connection bot.migrations hands over (never a URL of their own)."""

from alembic import context

from bot.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
