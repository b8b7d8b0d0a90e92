"""Alembic's entry point: pipekit runs migrations on a connection it already holds (see
`database._upgrade`), in the transaction that holds the upgrade lock."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=context.config.attributes["version_table"])
with context.begin_transaction():
    context.run_migrations()
