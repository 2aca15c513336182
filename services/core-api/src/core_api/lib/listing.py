"""Query parameters every list route shares: `page`, `pageSize` (bounded) and `sort`.

`provide_list_params` is a Litestar dependency, so the parameters are validated (400 on a bad
value, e.g. `pageSize=500`) and documented in OpenAPI once for every list route that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Request
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from core_api.lib.schemas import MAX_PAGE_SIZE, FimDatetime, InicioDatetime

ListFormat = Literal["json", "csv"]
CSV_MEDIA_TYPE = "text/csv"


def wanted_format(request: Request[Any, Any, Any]) -> ListFormat:
    """`?format=` when given, else what the Accept header prefers (JSON unless it asks for CSV)."""
    explicit = request.query_params.get("format")
    if explicit in ("json", "csv"):
        return "csv" if explicit == "csv" else "json"
    best = request.accept.best_match(["application/json", CSV_MEDIA_TYPE], default="application/json")
    return "csv" if best == CSV_MEDIA_TYPE else "json"


@dataclass(frozen=True)
class ListParams:
    page: int
    page_size: int
    sort: str | None
    #: csv: the whole list (every page, same filters and sort) streamed as text/csv
    format: ListFormat = "json"


async def _list_params(
    request: Request[Any, Any, Any],
    page: Annotated[int, QueryParameter(ge=1, le=1_000_000, description="1-based page number")] = 1,
    page_size: Annotated[
        int,
        QueryParameter(
            name="pageSize", ge=1, le=MAX_PAGE_SIZE, description=f"items per page (≤ {MAX_PAGE_SIZE})"
        ),
    ] = 20,
    sort: Annotated[
        str | None,
        QueryParameter(
            max_length=40,
            description="field to sort by, `-` prefix for descending (e.g. `numero`, `-createdAt`)",
        ),
    ] = None,
    fmt: Annotated[
        ListFormat | None,
        QueryParameter(
            name="format",
            description="`csv`: the whole list (every page, with the same filters and sort) streamed as a "
            "`text/csv` download; also chosen by `Accept: text/csv`. Default: JSON pages.",
        ),
    ] = None,
) -> ListParams:
    return ListParams(page=page, page_size=page_size, sort=sort, format=fmt or wanted_format(request))


#: register under the name `list_params` on a controller or route
provide_list_params = Provide(_list_params, sync_to_thread=None)


def db_sort(sort: str | None, fields: Mapping[str, str]) -> str | None:
    """Translate a wire sort key (`-createdAt`) to a document field (`-created_at`).

    `fields` maps the names clients may sort by to document fields; anything else is a 400 naming
    the allowed ones.
    """
    if not sort:
        return None
    descending = sort.startswith("-")
    name = sort[1:] if descending else sort
    if name not in fields:
        raise ValidationException(f"cannot sort by {name!r}; use one of: {', '.join(fields)}")
    return ("-" if descending else "") + fields[name]


_INICIO: TypeAdapter[datetime] = TypeAdapter(InicioDatetime)
_FIM: TypeAdapter[datetime] = TypeAdapter(FimDatetime)


def datetime_query(description: str, name: str | None = None) -> Any:
    """A query parameter holding a day (`2027-03-01`) or an ISO 8601 date-time with a time zone, as
    request bodies take them.

    Declared as text (Litestar would read `0.5` as a Unix timestamp and accept naive values) and
    read with `parse_datetime_query`, the same validation as `AwareDatetime` in bodies.
    """
    return QueryParameter(
        name=name,
        description=f"{description}: a day (`2027-03-01`, in the empresa's time zone; as `fim` the day is "
        "included) or an ISO 8601 date-time with a time zone",
        max_length=64,
    )


def parse_datetime_query(value: str | None, key: str) -> datetime | None:
    """`value` as an aware datetime, or a 400 naming the query parameter `key`. A plain day is read in
    the empresa's time zone: as `fim`, the day is included (the end is the next day's start)."""
    if value is None:
        return None
    try:
        return (_FIM if key == "fim" else _INICIO).validate_python(value)
    except PydanticValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValidationException(
            f"Validation failed: {key} {message}", extra=[{"message": message, "key": key, "source": "query"}]
        ) from None
