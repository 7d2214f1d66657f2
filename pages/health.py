"""`GET /healthz`: a plain FastAPI route that checks the database (also the benchmark's baseline)."""

from __future__ import annotations

from nicegui import app
from sqlalchemy import text

from app.context import AppContext


def register(context: AppContext) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with context.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}
