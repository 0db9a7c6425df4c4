"""Alembic environment: one script tree per addon (a branch each), run on the app's connection."""
from alembic import context

from core.extensions import db

config = context.config
connection = config.attributes["connection"]
prefixes = config.attributes.get("table_prefixes")


def include_object(obj, name, type_, reflected, compare_to):
    """When generating an addon's migration, look only at that addon's tables."""
    if type_ == "table" and prefixes:
        return name.startswith(tuple(prefixes))
    if prefixes and hasattr(obj, "table"):
        return obj.table.name.startswith(tuple(prefixes))
    return True


context.configure(connection=connection, target_metadata=db.metadata, include_object=include_object,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
