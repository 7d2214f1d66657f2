"""The API under test: the `/api/v1` router on its own app, a client, and keys of the two demo merchants."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.api import build_router
from app.context import AppContext
from app.services.api_keys import create_api_key
from tests.unit.portal_support import merchant_id_of


@pytest.fixture
async def client(app_context: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    api = FastAPI()
    api.include_router(build_router(app_context))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://testserver") as client:
        yield client


def key_of(app_context: AppContext, business_name: str) -> str:
    with app_context.database.transaction() as session:
        return create_api_key(session=session, merchant_id=merchant_id_of(session, business_name)).secret


@pytest.fixture
def acme_key(app_context: AppContext) -> str:
    return key_of(app_context, "Acme Cloud")


@pytest.fixture
def acme(acme_key: str) -> dict[str, str]:
    """Headers that authenticate as Acme Cloud."""
    return {"Authorization": f"Bearer {acme_key}"}


@pytest.fixture
def globex(app_context: AppContext) -> dict[str, str]:
    """Headers that authenticate as Globex."""
    return {"Authorization": f"Bearer {key_of(app_context, 'Globex')}"}
