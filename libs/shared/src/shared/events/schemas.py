"""JSON Schema of every registered event (envelope + payload), for other languages and tooling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.events.envelope import envelope_type, registered_events


def event_json_schema(event_type: str, schema_version: int) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) a message of this type and version validates against."""
    cls = registered_events()[(event_type, schema_version)]
    schema = envelope_type(cls).model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:outdoor:events:{event_type}:v{schema_version}"
    return schema


def export_json_schemas(directory: Path) -> list[Path]:
    """Write `<type>.v<version>.schema.json` for every registered event; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, version in sorted(registered_events()):
        path = directory / f"{event_type}.v{version}.schema.json"
        path.write_text(
            json.dumps(event_json_schema(event_type, version), indent=2, ensure_ascii=False) + "\n"
        )
        written.append(path)
    return written
