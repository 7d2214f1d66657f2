"""Alembic environment: runs on the engine handed over by app.db.migrate, or on DATABASE_URL."""

from alembic import context
from sqlalchemy import Engine

from app.config import load_settings
from app.db import include_object, make_engine
from app.models import Base

config = context.config
engine: Engine = config.attributes.get("engine") or make_engine(load_settings().effective_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
