"""What API requests go through: the secret key that names the merchant, and a `POST`'s `Idempotency-Key`."""

# No `from __future__ import annotations`: FastAPI reads the dependencies' signatures.
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from app.api.errors import json_response
from app.context import AppContext
from app.enums import EventSource
from app.services.api_keys import ApiCaller, authenticate_api_key
from app.services.events import Actor
from app.services.idempotency import MAX_KEY_LENGTH, claim_key, fingerprint, release_key, store_answer

API_ACTOR = Actor(source=EventSource.API)
UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Send a valid API key as `Authorization: Bearer sk_…` (create one under Account details).",
    headers={"WWW-Authenticate": "Bearer"},
)
_BEARER = HTTPBearer(auto_error=False, description="A secret API key from Account details (`sk_…`).")

CallerDependency = Callable[..., ApiCaller]


def caller_dependency(context: AppContext) -> CallerDependency:
    """The dependency that answers 401 unless the request carries a valid, unrevoked key."""

    def api_caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> ApiCaller:
        if credentials is None:
            raise UNAUTHORIZED
        with context.database.transaction() as session:
            caller = authenticate_api_key(session=session, secret=credentials.credentials, clock=context.clock)
        if caller is None:
            raise UNAUTHORIZED
        return caller

    return api_caller


@dataclass(frozen=True, slots=True)
class IdempotentPost:
    """A `POST` that may carry an `Idempotency-Key`; `respond` answers it once per key."""

    context: AppContext
    caller: ApiCaller
    key: str | None
    fingerprint: str

    def respond(self, status_code: int, produce: Callable[[], BaseModel]) -> Response:
        """`produce()`'s object as JSON with `status_code`; with a key seen before for the same request, the first
        answer again (`Idempotent-Replayed: true`), whatever `produce` would do now."""
        if self.key is None:
            return json_response(status_code, produce())
        database, merchant_id, now = self.context.database, self.caller.merchant_id, self.context.clock()
        with database.transaction() as session:
            stored = claim_key(
                session=session, merchant_id=merchant_id, key=self.key, request_fingerprint=self.fingerprint, now=now
            )
        if stored is not None:
            return Response(
                stored.body,
                status_code=stored.status_code,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            body = produce().model_dump_json()
        except BaseException:
            with database.transaction() as session:
                release_key(session=session, merchant_id=merchant_id, key=self.key)
            raise
        with database.transaction() as session:
            store_answer(session=session, merchant_id=merchant_id, key=self.key, status_code=status_code, body=body)
        return Response(body, status_code=status_code, media_type="application/json")


def idempotency_dependency(context: AppContext, api_caller: CallerDependency) -> Callable[..., object]:
    """The dependency that reads a `POST`'s `Idempotency-Key` and what makes the request the same as another."""

    async def idempotent_post(
        request: Request,
        caller: Annotated[ApiCaller, Depends(api_caller)],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=MAX_KEY_LENGTH,
                description="Send the same key to repeat a request safely: for 24 hours the same request gets the "
                "first answer again, and another request with the key is a 409.",
            ),
        ] = None,
    ) -> IdempotentPost:
        body = await request.body()
        return IdempotentPost(context, caller, idempotency_key, fingerprint(request.method, request.url.path, body))

    return idempotent_post
