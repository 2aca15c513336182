"""Events on FastStream: the broker chosen by URL (`EventBus`), the delivery middleware, the envelope
and the event schemas."""

from shared.events.bus import EventBus, broker_kind, bus_from_settings, create_event_bus
from shared.events.delivery import (
    DeadLetter,
    DeliveryPolicy,
    EventDelivery,
    Handler,
    PermanentError,
    StreamLimits,
    Subscription,
)
from shared.events.envelope import (
    EventEnvelope,
    EventPayload,
    UnsupportedSchemaVersion,
    current_event,
    envelope_type,
    new_event,
    parse_event,
    payload_type,
    register_event,
    registered_events,
)
from shared.events.pdf import (
    PDF_FAILED,
    PDF_GENERATED,
    PDF_REQUESTED,
    PdfFailedV1,
    PdfGeneratedV1,
    PdfRequestedV1,
)
from shared.events.schemas import event_json_schema, export_json_schemas

__all__ = [
    "PDF_FAILED",
    "PDF_GENERATED",
    "PDF_REQUESTED",
    "DeadLetter",
    "DeliveryPolicy",
    "EventBus",
    "EventDelivery",
    "EventEnvelope",
    "EventPayload",
    "Handler",
    "PdfFailedV1",
    "PdfGeneratedV1",
    "PdfRequestedV1",
    "PermanentError",
    "StreamLimits",
    "Subscription",
    "UnsupportedSchemaVersion",
    "broker_kind",
    "bus_from_settings",
    "create_event_bus",
    "current_event",
    "envelope_type",
    "event_json_schema",
    "export_json_schemas",
    "new_event",
    "parse_event",
    "payload_type",
    "register_event",
    "registered_events",
]
