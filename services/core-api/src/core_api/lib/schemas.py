"""Schema conventions for the HTTP contract: camelCase JSON, unknown fields refused, paged lists."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Annotated, Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from core_api.lib.validators import Cpf, refuse_control_characters

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class CamelModel(BaseModel):
    """Base of every request/response body: camelCase on the wire, snake_case in Python.

    Request bodies refuse unknown fields (a typo must not be silently ignored) and values that are
    not of the declared type (no "12" for an int). No text field, in any body, takes control
    characters (`_no_control_characters`, once for every schema).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=False,
        str_strip_whitespace=True,
        from_attributes=True,
        serialize_by_alias=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # before coercion and stripping, so the client's own text is checked; nested bodies are
        # CamelModels and check their own fields
        if isinstance(value, str):
            refuse_control_characters(value)
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    refuse_control_characters(item)
        return value


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_text(value: object) -> object:
    # pydantic's lax mode reads numbers (and numeric text such as "0.5") as Unix timestamps
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError(
            "dates are ISO 8601 text with a time zone (e.g. 2026-01-31T00:00:00-03:00), not numbers"
        )
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("dates must carry a time zone (e.g. 2026-01-31T00:00:00-03:00 or ...Z)")
    return value


#: a timezone-aware ISO 8601 datetime; naive ones and numbers are refused with a clear message
AwareDatetime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_aware)]

#: the empresa's time zone, in which a plain day ("2027-03-01") is read (every empresa is in it today)
LOCAL_TZ = ZoneInfo("America/Sao_Paulo")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: object, *, end: bool) -> object:
    """A plain day as the datetime it stands for: its start for `inicio`, the start of the next day for
    `fim` (so a day given as `fim` is the last day included)."""
    if isinstance(value, str) and _DAY.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a calendar day (YYYY-MM-DD)") from None
        return datetime.combine(day + timedelta(days=1 if end else 0), time(), LOCAL_TZ)
    return value


#: the start of a period: a day (`2027-03-01`, that day's 00:00 in the empresa's time zone) or an
#: aware ISO datetime
InicioDatetime = Annotated[
    datetime, BeforeValidator(_iso_text), BeforeValidator(partial(_day, end=False)), AfterValidator(_aware)
]
#: the end of a period: a day (`2027-03-31`: that day included) or an aware ISO datetime (exclusive end)
FimDatetime = Annotated[
    datetime, BeforeValidator(_iso_text), BeforeValidator(partial(_day, end=True)), AfterValidator(_aware)
]


def _require_int(value: object) -> object:
    # Litestar validates bodies with strict=False, which overrides Field(strict=True): check here
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer number (no quotes, no decimals)")
    return value


def _require_bool(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


#: money in integer cents, never negative
Centavos = Annotated[int, BeforeValidator(_require_int), Field(ge=0, le=10**13, strict=True)]

#: an integer that refuses "12", 12.0 and true
StrictInteger = Annotated[int, BeforeValidator(_require_int)]

#: a boolean that refuses "yes", 1 and "true"
StrictBoolean = Annotated[bool, BeforeValidator(_require_bool)]


class Page(CamelModel, Generic[T]):
    """A page of a list: `{"items": [...], "total": n, "page": p, "pageSize": s}`."""

    items: list[T]
    total: int
    page: int
    page_size: int


#: an ObjectId rendered as its 24-hex string in responses
IdStr = Annotated[str, BeforeValidator(lambda v: str(v) if v is not None else v)]


class PatchModel(CamelModel):
    """Base of PATCH bodies: every field optional, omitted fields untouched.

    Fields listed in `not_nullable` may be omitted but not set to null (they are required on the
    document), so `{"numero": null}` is a 400 instead of a broken document.
    """

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_null(self) -> Any:
        nulls = sorted(
            to_camel(f) for f in self.model_fields_set if f in self.not_nullable and getattr(self, f) is None
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; omit a field to leave it unchanged")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by Python (document) name."""
        return self.model_dump(exclude_unset=True, by_alias=False)


def example_config(*examples: dict[str, Any]) -> ConfigDict:
    """`model_config` adding request-body examples to OpenAPI.

    Litestar reads one example from the (non-pydantic) `example` config key; `json_schema_extra`
    keeps them in pydantic's own JSON schema too.
    """
    return ConfigDict(example=examples[0], json_schema_extra={"examples": list(examples)})  # type: ignore[typeddict-unknown-key]


class RepresentanteIn(CamelModel):
    """The legal representative who signs for a party."""

    nome: Annotated[str, Field(min_length=1, max_length=160)]
    cpf: Cpf | None = Field(default=None, description="11 digits, punctuation optional; stored as digits")
    cargo: Annotated[str, Field(max_length=120)] | None = None


class RepresentanteRead(CamelModel):
    nome: str
    cpf: str | None = None
    cargo: str | None = None
