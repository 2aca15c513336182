"""List answers: a JSON page, or the whole list as a streamed CSV download.

Every list route builds its answer with `list_response`: with `?format=csv` or `Accept: text/csv`
it streams every row matching the same filters and sort (fetched a page of 100 at a time, so memory
stays flat whatever the size), with the same camelCase field names as the JSON items as columns.
The first page is read before the answer starts, so a bad filter or sort is still a 400.

Cells are written for spreadsheets: UTF-8 with a byte-order mark (Excel reads the accents), nested
values as JSON, and text that starts with `=`, `+`, `-`, `@`, tab or CR prefixed with `'` so that a
cliente named `=HYPERLINK(...)` stays text (CSV/formula injection).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from litestar import Response
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.response import Stream
from pydantic import BaseModel

from core_api.lib.listing import CSV_MEDIA_TYPE, ListParams
from core_api.lib.schemas import MAX_PAGE_SIZE, Page

S = TypeVar("S", bound=BaseModel)
Fetch = Callable[[ListParams], Awaitable[tuple[Sequence[Any], int]]]

#: the most rows one export streams (a bound on one request's work)
MAX_EXPORT_ROWS = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _line(values: Sequence[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue().encode()


async def list_response(
    params: ListParams,
    schema: type[S],
    fetch: Fetch,
    to_item: Callable[[Any], S],
    filename: str,
) -> Response[Any]:
    """The page the client asked for (a `Response[Page[schema]]`, which is what list handlers declare
    for OpenAPI), or with format csv the whole list as a streamed download."""
    if params.format != "csv":
        items, total = await fetch(params)
        return Response(
            Page[schema](  # type: ignore[valid-type]
                items=[to_item(i) for i in items], total=total, page=params.page, page_size=params.page_size
            )
        )
    batch = dataclasses.replace(params, page=1, page_size=MAX_PAGE_SIZE)
    first, total = await fetch(batch)  # errors (bad sort, unknown id) answer before the stream starts
    columns = [f.alias or name for name, f in schema.model_fields.items()]

    async def rows() -> AsyncIterator[bytes]:
        yield "\ufeff".encode() + _line(columns)
        items, page, sent = first, 1, 0
        while items:
            for doc in items:
                data = to_item(doc).model_dump(mode="json", by_alias=True)
                yield _line([cell(data.get(c)) for c in columns])
                sent += 1
            if len(items) < MAX_PAGE_SIZE or sent >= min(total, MAX_EXPORT_ROWS):
                break
            page += 1
            items, _ = await fetch(dataclasses.replace(batch, page=page))

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Stream(
        rows(),
        media_type=CSV_MEDIA_TYPE,  # Litestar adds "; charset=utf-8" to text types
        headers={
            "Content-Disposition": f'attachment; filename="{filename}-{stamp}.csv"',
            "X-Total-Count": str(min(total, MAX_EXPORT_ROWS)),
        },
    )


# -- OpenAPI ----------------------------------------------------------------------------------------
def _with_csv_alternative(base: type[Operation]) -> type[Operation]:
    def __init__(self: Operation, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        if not any(getattr(p, "name", None) == "format" for p in self.parameters or []):
            return
        ok = (self.responses or {}).get("200")
        content = getattr(ok, "content", None)
        if isinstance(content, dict) and CSV_MEDIA_TYPE not in content:
            content[CSV_MEDIA_TYPE] = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, description="the whole list as CSV (UTF-8 with BOM)")
            )

    return type(f"Csv{base.__name__}", (base,), {"__init__": __init__})


def document_csv_lists(app: Any) -> None:
    """List operations (those with the `format` parameter) also answer `text/csv`: say so in OpenAPI.
    Wraps whatever operation class a handler already uses, like the other OpenAPI helpers."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" in getattr(handler, "http_methods", ()):
                handler.operation_class = _with_csv_alternative(handler.operation_class)
