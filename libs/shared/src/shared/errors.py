"""The one error shape of the HTTP contract, and what turns failures into it.

Every error answer of every service is `{"statusCode": n, "detail": "...", "extra": ...}` (camelCase,
as the rest of the contract). `detail` is the message a person acts on; `extra` is for programs and
has **one shape per kind of error**, the kind being the status (`EXTRA_SHAPES`):

| status | kind | `extra` |
|---|---|---|
| 400 | validation | `[{key, message, source}]`: each failed field (`key` null when it is the whole body) |
| 401 | authentication | always null: nothing about which check failed |
| 403 | role | `{requiredRole}` (null when it is not about a role) |
| 404 | not found | `{resource, ids}`: what was looked for (`resource` null for an unknown route) |
| 409 | conflict | `{reason, conflicts: [{resource, id, field, status, label, count}]}` |
| 413 | too large | `{maxBytes}` |
| 415 | media type | `{accepted: [content types]}` |
| 422 | idempotency | `{header, reason}` (`reason`: `key_reused`) |
| 429 | rate limit | `{retryAfter}` (seconds) |
| 503 | unavailable | `{reason, retryAfter}` (`reason`: `transient`, `shutdown`, `busy`, `unavailable` …; seconds or null) |
| other | — | null |

`normalize_extra` enforces it at the exception handler, whatever a raise site passed, so a client
can rely on the shape; each shape is a component schema of OpenAPI (`error_responses`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

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


# -- the `extra` of each kind ------------------------------------------------------------------------
@dataclass
class FieldError:
    """One thing that failed validation: where (`source`: body, query, path, header) and which `key`."""

    key: str | None
    message: str
    source: Literal["body", "query", "path", "header", "cookie"] | None = None


@dataclass
class ForbiddenExtra:
    requiredRole: str | None = None  # noqa: N815


@dataclass
class NotFoundExtra:
    resource: str | None = None
    ids: list[str] | None = None


@dataclass
class ConflictItem:
    """One thing the request collides with: its kind (`resource`) and what identifies it."""

    resource: str
    id: str | None = None
    field: str | None = None
    status: str | None = None
    label: str | None = None
    count: int | None = None


@dataclass
class ConflictExtra:
    """`reason`: duplicate (a unique value taken), taken (booked days), state (its status forbids it),
    in_use (other records depend on it), busy (another request is changing it; retry),
    in_progress (the first request with this Idempotency-Key still runs)."""

    reason: str
    conflicts: list[ConflictItem]


@dataclass
class TooLargeExtra:
    maxBytes: int | None = None  # noqa: N815


@dataclass
class MediaTypeExtra:
    accepted: list[str]


@dataclass
class IdempotencyExtra:
    header: str
    reason: str


@dataclass
class RateLimitExtra:
    retryAfter: int | None = None  # noqa: N815


@dataclass
class UnavailableExtra:
    reason: str
    retryAfter: int | None = None  # noqa: N815


# -- the error bodies, one schema per kind (what OpenAPI documents) ---------------------------------
@dataclass
class ValidationError:
    """400: the request is not valid; `extra` lists each field that failed."""

    statusCode: int  # noqa: N815
    detail: str
    extra: list[FieldError]


@dataclass
class UnauthorizedError:
    """401: `extra` is always null."""

    statusCode: int  # noqa: N815
    detail: str
    extra: None = None


@dataclass
class ForbiddenError:
    statusCode: int  # noqa: N815
    detail: str
    extra: ForbiddenExtra


@dataclass
class NotFoundError:
    statusCode: int  # noqa: N815
    detail: str
    extra: NotFoundExtra


@dataclass
class ConflictError:
    statusCode: int  # noqa: N815
    detail: str
    extra: ConflictExtra


@dataclass
class TooLargeError:
    statusCode: int  # noqa: N815
    detail: str
    extra: TooLargeExtra


@dataclass
class UnsupportedMediaTypeError:
    statusCode: int  # noqa: N815
    detail: str
    extra: MediaTypeExtra


@dataclass
class IdempotencyError:
    statusCode: int  # noqa: N815
    detail: str
    extra: IdempotencyExtra


@dataclass
class RateLimitError:
    statusCode: int  # noqa: N815
    detail: str
    extra: RateLimitExtra


@dataclass
class UnavailableError:
    """503: a dependency is down, busy or restarting; retry after `retryAfter` seconds (also the
    Retry-After header)."""

    statusCode: int  # noqa: N815
    detail: str
    extra: UnavailableExtra


#: the body schema of each error status (others: `ErrorResponse` with a null `extra`)
EXTRA_SHAPES: dict[int, type] = {
    400: ValidationError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
    415: UnsupportedMediaTypeError,
    422: IdempotencyError,
    429: RateLimitError,
    503: UnavailableError,
}

_SOURCES = {"body", "query", "path", "header", "cookie"}


def _field_errors(detail: str, extra: Any) -> list[dict[str, Any]]:
    items = extra if isinstance(extra, list) else [extra] if extra else []
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping) and ("message" in item or "key" in item):
            source = item.get("source")
            out.append(
                {
                    "key": None if item.get("key") is None else str(item.get("key")),
                    "message": str(item.get("message") or detail),
                    "source": source if source in _SOURCES else None,
                }
            )
        elif isinstance(item, Mapping):
            # a raise site's {name: value}: each name is a key the message is about
            out.extend({"key": str(k), "message": detail, "source": None} for k in item)
        else:
            out.append({"key": None, "message": str(item), "source": None})
    return out or [{"key": None, "message": detail, "source": None}]


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def normalize_extra(status_code: int, detail: str, extra: Any) -> Any:
    """`extra` in the one shape of its kind (see the module doc); raise sites may pass less."""
    given: Mapping[str, Any] = extra if isinstance(extra, Mapping) else {}
    if status_code == 400:
        return _field_errors(detail, extra)
    if status_code == 401:
        return None
    if status_code == 403:
        role = given.get("requiredRole")
        return {"requiredRole": role if isinstance(role, str) else None}
    if status_code == 404:
        ids = given.get("ids")
        resource = given.get("resource")
        return {
            "resource": resource if isinstance(resource, str) else None,
            "ids": [str(i) for i in ids] if isinstance(ids, list) else [],
        }
    if status_code == 409:
        conflicts = given.get("conflicts")
        return {
            "reason": str(given.get("reason") or "conflict"),
            "conflicts": [
                {k: c.get(k) for k in ("resource", "id", "field", "status", "label", "count")}
                for c in (conflicts if isinstance(conflicts, list) else [])
                if isinstance(c, Mapping) and isinstance(c.get("resource"), str)
            ],
        }
    if status_code == 413:
        return {"maxBytes": _opt_int(given.get("maxBytes"))}
    if status_code == 415:
        accepted = given.get("accepted")
        return {"accepted": [str(a) for a in accepted] if isinstance(accepted, list) else []}
    if status_code == 422:
        return {
            "header": str(given.get("header") or ""),
            "reason": str(given.get("reason") or "unprocessable"),
        }
    if status_code == 429:
        return {"retryAfter": _opt_int(given.get("retryAfter"))}
    if status_code == 503:
        return {
            "reason": str(given.get("reason") or "unavailable"),
            "retryAfter": _opt_int(given.get("retryAfter")),
        }
    return None


def error_response(
    status_code: int, detail: str, extra: Any = None, headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "statusCode": status_code,
        "detail": detail,
        "extra": normalize_extra(status_code, detail, extra),
    }
    return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


def _with_sources(request: Request[Any, Any, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Litestar leaves `source` out of some validation errors (a body model's fields): name it from
    where the key is in the request."""
    for entry in items:
        key = entry["key"]
        if entry["source"] is not None or key is None:
            continue
        if key in request.query_params:
            entry["source"] = "query"
        elif key in request.path_params:
            entry["source"] = "path"
        elif request.method in ("POST", "PUT", "PATCH"):
            entry["source"] = "body"
    return items


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Every Litestar HTTPException (400, 401, 403, 404, 405, 409, 413, 429, ...) in the one shape."""
    extra = exc.extra
    if exc.status_code == 400:
        extra = _with_sources(request, _field_errors(exc.detail, extra))
    return error_response(exc.status_code, exc.detail, extra, exc.headers)


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
                extra=[{"key": None, "message": "nested too deeply", "source": "body"}],
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
            data_container=EXTRA_SHAPES.get(code, ErrorResponse),
            description=descriptions.get(f"d{code}")
            or ERROR_DESCRIPTIONS.get(code)
            or HTTPStatus(code).phrase,
            generate_examples=False,
        )
        for code in status_codes
    }
