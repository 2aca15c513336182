"""The one error shape of the HTTP contract, and what turns failures into it.

Every error answer of every service is `{"statusCode": n, "detail": "...", "extra": ...}` (camelCase,
as the rest of the contract; `extra` only when there is something to add, e.g. which fields failed
validation). `ErrorResponse` is that shape as a type, so OpenAPI documents the same schema for
every error status (`shared.openapi.document_errors`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("shared.errors")


@dataclass
class ErrorResponse:
    """An error answer: the status again, a message a person can act on, and details when useful."""

    statusCode: int  # noqa: N815 - the wire name of the contract
    detail: str
    extra: dict[str, Any] | list[Any] | None = None


def error_response(
    status_code: int, detail: str, extra: Any = None, headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"statusCode": status_code, "detail": detail}
    if extra:
        body["extra"] = extra
    return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


def http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Every Litestar HTTPException (400, 401, 403, 404, 405, 409, 413, 429, ...) in the one shape."""
    return error_response(exc.status_code, exc.detail, exc.extra, exc.headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Anything unexpected: logged with its traceback, answered 500 without one."""
    log.error("unhandled error during %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "Internal Server Error")


class ApiRequest(Request[Any, Any, Any]):
    """Litestar's Request, with a JSON body too deeply nested to decode answered 400 instead of 500.

    msgspec stops at Python's recursion limit and raises RecursionError, which Litestar does not
    turn into a client error. Every JSON body of every route is decoded here, so this is the one
    place to refuse it (a 2 KB body of `[[[[...` must not cost a 500 on an unauthenticated route).
    """

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException(
                "the JSON body is nested too deeply; send a flatter document",
                extra={"reason": "json_too_deep"},
            ) from None


#: descriptions of the error statuses, shown in OpenAPI
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: the body, a parameter or a header is not valid (`extra` names what failed)",
    401: "Not authenticated: the access token is missing, expired, revoked or not valid",
    403: "Forbidden: the caller's role does not allow this",
    404: "Not found in the caller's empresa (also for ids that are not valid)",
    405: "Method not allowed: the `Allow` header lists the methods this path accepts",
    409: "Conflict with existing data (duplicate, booking taken, state that forbids the change)",
    413: "Request body too large",
    422: "Unprocessable: the request is well-formed but refers to something it cannot use",
    429: "Too many requests: slow down and retry after `Retry-After` seconds",
    500: "Internal error (a bug: reported with the request id)",
    502: "A service this one depends on answered badly",
    503: "Temporarily unavailable (database or a dependency): retry after `Retry-After` seconds",
    504: "A service this one depends on did not answer in time",
}


def error_responses(*status_codes: int, **descriptions: str) -> dict[int, ResponseSpec]:
    """`responses=` entries documenting error statuses with the one error schema.

    `error_responses(404, 409)`; a specific description with `error_responses(409, d409="...")`.
    """
    return {
        code: ResponseSpec(
            data_container=ErrorResponse,
            description=descriptions.get(f"d{code}")
            or ERROR_DESCRIPTIONS.get(code)
            or HTTPStatus(code).phrase,
            generate_examples=False,
        )
        for code in status_codes
    }
