"""The one envelope every event travels in, and the registry of event payload types.

Wire format (JSON, camelCase):

    {"eventId": "…", "type": "pdf.requested", "schemaVersion": 1, "time": "2026-…Z",
     "empresaId": "…", "correlationId": "<X-Request-ID of the HTTP call>", "causationId": "…"|null,
     "data": {…payload of that type and version…}}

A payload class declares its `event_type` and `schema_version`. A breaking change to a payload is a
new class with the next version, registered beside the old one, so consumers can accept both while
producers move over.
"""

from __future__ import annotations

import contextvars
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from shared.logging import get_request_id

ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"


class EventPayload(BaseModel):
    """Base of every event payload: camelCase on the wire, unknown fields refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        serialize_by_alias=True,
        frozen=True,
    )

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


P = TypeVar("P", bound=EventPayload)


class EventEnvelope(BaseModel, Generic[P]):
    """Metadata common to every event, then the payload in `data`."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", serialize_by_alias=True, frozen=True
    )

    event_id: str = Field(pattern=ID_PATTERN, description="unique id; consumers de-duplicate on it")
    type: str = Field(pattern=r"^[a-z][a-z0-9_.-]{0,99}$", description="event type, e.g. pdf.requested")
    schema_version: int = Field(ge=1, description="version of the payload schema for this type")
    time: datetime = Field(description="when the event was created (UTC)")
    empresa_id: str = Field(pattern=ID_PATTERN, description="the tenant the event belongs to")
    correlation_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="X-Request-ID of the HTTP request that caused it"
    )
    causation_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="eventId of the event whose handling caused it"
    )
    data: P


#: the event being handled in this task, so events published by a handler are linked to it
current_event: contextvars.ContextVar[EventEnvelope[Any] | None] = contextvars.ContextVar(
    "current_event", default=None
)

_REGISTRY: dict[tuple[str, int], type[EventPayload]] = {}


def register_event(payload_cls: type[P]) -> type[P]:
    """Class decorator: make a payload type known to envelopes, schema export and subscribers."""
    key = (payload_cls.event_type, payload_cls.schema_version)
    if key in _REGISTRY and _REGISTRY[key] is not payload_cls:
        raise ValueError(f"{key} is already registered to {_REGISTRY[key].__name__}")
    _REGISTRY[key] = payload_cls
    return payload_cls


def registered_events() -> dict[tuple[str, int], type[EventPayload]]:
    return dict(_REGISTRY)


def payload_type(event_type: str, schema_version: int | None = None) -> type[EventPayload]:
    """The payload class for a type (the newest version unless one is given)."""
    versions = {v: cls for (t, v), cls in _REGISTRY.items() if t == event_type}
    if not versions:
        raise KeyError(f"unknown event type {event_type!r}")
    if schema_version is None:
        return versions[max(versions)]
    if schema_version not in versions:
        raise UnsupportedSchemaVersion(event_type, schema_version, sorted(versions))
    return versions[schema_version]


class UnsupportedSchemaVersion(ValueError):
    def __init__(self, event_type: str, version: int, known: list[int]) -> None:
        super().__init__(f"{event_type} schemaVersion {version} is not supported here (known: {known})")


_ENVELOPE_CLASSES: dict[type[EventPayload], type[EventEnvelope[Any]]] = {}


def envelope_type(payload_cls: type[P]) -> type[EventEnvelope[P]]:
    """`EventEnvelope[payload_cls]` with `type` and `schemaVersion` pinned, named for schemas/AsyncAPI."""
    if payload_cls not in _ENVELOPE_CLASSES:
        from typing import Literal

        pinned: dict[str, Any] = {
            "type": (Literal[payload_cls.event_type], Field(description="event type")),
            "schema_version": (
                Literal[payload_cls.schema_version],
                Field(description="payload schema version"),
            ),
        }
        model = cast(
            "type[EventEnvelope[Any]]",
            create_model(
                f"{payload_cls.__name__}Event",
                __base__=EventEnvelope[payload_cls],  # type: ignore[valid-type]
                **pinned,
            ),
        )
        model.__doc__ = payload_cls.__doc__
        _ENVELOPE_CLASSES[payload_cls] = model
    return _ENVELOPE_CLASSES[payload_cls]


def new_event(
    data: P,
    *,
    empresa_id: str,
    event_id: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> EventEnvelope[P]:
    """Wrap a payload. Correlation and causation default to the request / event being handled."""
    parent = current_event.get()
    return envelope_type(type(data))(
        event_id=event_id or uuid.uuid4().hex,
        type=data.event_type,
        schema_version=data.schema_version,
        time=datetime.now(UTC),
        empresa_id=empresa_id,
        correlation_id=correlation_id or get_request_id() or (parent.correlation_id if parent else None),
        causation_id=causation_id or (parent.event_id if parent else None),
        data=data,
    )


def parse_event(raw: dict[str, Any] | bytes | str) -> EventEnvelope[Any]:
    """Validate a raw envelope against the payload type its `type`/`schemaVersion` name."""
    if isinstance(raw, bytes | str):
        head = EventEnvelope[Any].model_validate_json(raw)
        cls = envelope_type(payload_type(head.type, head.schema_version))
        return cls.model_validate_json(raw)
    head = EventEnvelope[Any].model_validate(raw)
    cls = envelope_type(payload_type(head.type, head.schema_version))
    return cls.model_validate(raw)
