"""Bounded request bodies: a request may send at most what its route can use, checked while the body arrives.

Everything is held to 64 KB (the API's JSON, the sign-out form), branding uploads to 2 MB plus their multipart
framing. A `Content-Length` above the limit is answered with 413 before any of the body is read; a body without one
(chunked) is cut off as soon as it passes the limit, so no route ever reads, parses or spools more. The socket.io
route is left to engine.io, which caps its own messages. Validation errors (422) name the fields and say what is
wrong, but never echo more than a short excerpt of what was sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from app.api.errors import error_response
from app.images import MAX_UPLOAD_BYTES
from server.http_middleware import HttpMiddleware
from server.nicegui_internals import SOCKET_PATH_PREFIX, upload_client_id

BODY_LIMIT = 64 * 1024
# The file itself, plus the multipart boundaries and part headers around it.
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 16 * 1024
EXCERPT_CHARACTERS = 40


class BodyTooLarge(Exception):
    """The body passed its limit; raised into the route that was reading it."""


def body_limit(path: str) -> int | None:
    """The most bytes a request to `path` may send; None for the socket.io route (engine.io limits it)."""
    if path.startswith(SOCKET_PATH_PREFIX):
        return None
    return UPLOAD_BODY_LIMIT if upload_client_id(path) is not None else BODY_LIMIT


def too_large(limit: int) -> JSONResponse:
    """413, in the REST API's error shape (which says the same to any other caller)."""
    return error_response(413, "invalid_request_error", f"The request body is larger than {limit // 1024:,} KB.")


class RequestBodyLimitMiddleware(HttpMiddleware):
    """413 for a body above its route's limit, before the route reads or parses more than the limit."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        cut_off = answered = False

        async def limited_receive() -> Message:
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answered
            if cut_off:  # the route's answer to a body it could not read is replaced by the 413 below
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except Exception:  # BodyTooLarge, or whatever the route made of it
            if not cut_off:
                raise
        if cut_off and not answered:
            await too_large(limit)(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def excerpt(value: Any) -> Any:
    """What a validation error may repeat of the input: a short text or a number, nothing else."""
    if isinstance(value, str):
        return value if len(value) <= EXCERPT_CHARACTERS else f"{value[:EXCERPT_CHARACTERS]}…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, with each error's `input` and location cut to excerpts (the input was the whole value, or the
    whole body; an unknown field's location is its name, which the sender chose)."""
    details = [
        detail | {"loc": [excerpt(part) for part in detail.get("loc", ())], "input": excerpt(detail.get("input"))}
        for detail in error.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(details)}, status_code=422)


def install(target: FastAPI) -> None:
    """The body limit and the cut-down 422 on `target` (NiceGUI's app, the REST API's)."""
    target.add_middleware(RequestBodyLimitMiddleware)
    target.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
