"""The API's one error shape, `{"error": {"type", "message", "param"}}`, for every refusal of every endpoint, and
the one way its answers are encoded.

`ApiRoute` (the route class of every API router) turns what a request can fail with into it: a bad key (401), domain
errors from the services (404, 409, 422, 403, 503) and FastAPI's own validation of bodies, queries and headers (422,
with every field error in `errors`). A validation error names the field and says what is wrong, never echoing more
than a short excerpt of what was sent.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import Conflict, Forbidden, NotFound, Unavailable, ValidationFailed

EXCERPT_CHARACTERS = 40


class FieldError(BaseModel):
    param: str | None
    message: str


class ErrorDetail(BaseModel):
    type: str
    message: str
    param: str | None = None
    errors: list[FieldError] | None = None


class ApiError(BaseModel):
    """Every refusal: what kind (`type`), what to do about it (`message`) and the input it is about (`param`)."""

    error: ErrorDetail


def error_response(
    status_code: int,
    error_type: str,
    message: str,
    param: str | None = None,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    detail = ErrorDetail(type=error_type, message=message, param=param, errors=list(errors) if errors else None)
    # `param` is always there (null when the error is about no input); `errors` only on validation errors.
    body = {"error": detail.model_dump(mode="json", exclude_none=True) | {"param": detail.param}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def field_errors_response(errors: Sequence[FieldError]) -> JSONResponse:
    first = errors[0]
    return error_response(422, "invalid_request_error", first.message, first.param, errors=errors)


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARACTERS else f"{text[:EXCERPT_CHARACTERS]}…"


def _param(location: Sequence[int | str]) -> str | None:
    """`("body", "items", 0, "price")` -> `items[0].price`; a query or header parameter by its name."""
    parts = list(location[1:]) if location and location[0] in ("body", "query", "path", "header") else list(location)
    param = ""
    for part in parts:
        param += f"[{part}]" if isinstance(part, int) else f"{'.' if param else ''}{_excerpt(str(part))}"
    return param or None


_MESSAGES = {
    "extra_forbidden": "Unknown field: leave it out.",
    "missing": "This field is required.",
    "json_invalid": "The body is not valid JSON.",
    "model_attributes_type": "Send a JSON object.",
    "dict_type": "Send a JSON object.",
}


def validation_errors(error: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(param=_param(detail.get("loc", ())), message=_MESSAGES.get(detail["type"], detail["msg"]))
        for detail in error.errors()
    ]


def domain_error_response(error: Exception) -> JSONResponse | None:
    """The API's answer to a service's typed error; None for anything else."""
    if isinstance(error, NotFound):
        what = error.kind or "object"
        return error_response(status.HTTP_404_NOT_FOUND, "not_found", f"No such {what}.", error.param)
    if isinstance(error, ValidationFailed):
        return field_errors_response(
            [FieldError(param=field, message=message) for field, message in error.field_errors.items()]
        )
    if isinstance(error, Conflict):
        return error_response(status.HTTP_409_CONFLICT, "conflict", str(error))
    if isinstance(error, Forbidden):
        return error_response(status.HTTP_403_FORBIDDEN, "permission_error", str(error))
    if isinstance(error, Unavailable):
        return error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "api_error", str(error))
    return None


_HTTP_TYPES = {
    status.HTTP_401_UNAUTHORIZED: "authentication_error",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_409_CONFLICT: "conflict",
}


def http_error_response(error: StarletteHTTPException) -> JSONResponse:
    """An HTTP refusal (a bad key's 401, an unknown method's 405) in the API's error shape, with its headers."""
    error_type = _HTTP_TYPES.get(error.status_code, "invalid_request_error")
    return error_response(error.status_code, error_type, str(error.detail), headers=error.headers)


def json_response(status_code: int, content: BaseModel | dict[str, Any]) -> Response:
    """An API object as JSON: a model as pydantic encodes it, or the same object already as plain data (`dict`, with
    datetimes, which come out as pydantic has them: `2026-03-01T00:00:00Z`)."""
    if isinstance(content, BaseModel):
        body = content.model_dump_json().encode()
    else:
        body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, status_code=status_code, media_type="application/json")


def _encoding(endpoint: Callable[..., Any], status_code: int) -> Callable[..., Any]:
    """`endpoint` answering with `json_response` of what it returns (a Response as it is). FastAPI reads the
    parameters and the documented answer (the return annotation) through `functools.wraps`."""
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def answer_async(*args: Any, **kwargs: Any) -> Response:
            content = await endpoint(*args, **kwargs)
            return content if isinstance(content, Response) else json_response(status_code, content)

        return answer_async

    @functools.wraps(endpoint)
    def answer(*args: Any, **kwargs: Any) -> Response:
        content = endpoint(*args, **kwargs)
        return content if isinstance(content, Response) else json_response(status_code, content)

    return answer


class ApiRoute(APIRoute):
    """Answers every failure of its endpoint in the API's error shape, and encodes what it returns once.

    An endpoint returns its API object (documented by the return annotation or `response_model`) or the object's
    JSON data (a dict, e.g. a page of 100 customers built without models). FastAPI would validate a returned object
    against the response model again and encode it in two more passes, in one more thread hop for a plain `def`:
    the objects come from the API's own models, so it is skipped for every route alike.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _encoding(endpoint, kwargs.get("status_code") or status.HTTP_200_OK), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return field_errors_response(validation_errors(error))
            except HTTPException as error:
                return http_error_response(error)
            except Exception as error:
                response = domain_error_response(error)
                if response is None:
                    raise
                return response

        return answer


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of an endpoint's error answers."""
    descriptions = {
        401: "Missing, wrong or revoked API key",
        403: "Switched off in the merchant's settings",
        404: "No such object for this key's merchant",
        409: "Conflicts with the object's state, or an Idempotency-Key reused for another request",
        422: "Invalid input: every field error in `errors`",
    }
    return {code: {"model": ApiError, "description": descriptions[code]} for code in codes}
