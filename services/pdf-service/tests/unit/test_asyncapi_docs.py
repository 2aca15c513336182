"""The AsyncAPI documents under docs/asyncapi are what the code generates (regenerate: see docs/events.md)."""

from __future__ import annotations

import json
from pathlib import Path

from pdf_service.worker import asyncapi_document
from shared.events.asyncapi import declared_asyncapi

DOCS = Path(__file__).resolve().parents[4] / "docs" / "asyncapi"


def normalised(doc: dict) -> dict:
    return json.loads(json.dumps(doc, sort_keys=True))


def test_pdf_service_asyncapi_is_up_to_date():
    doc = asyncapi_document()
    assert normalised(doc) == json.loads((DOCS / "pdf-service.json").read_text())
    groups = {c["bindings"]["redis"].get("groupName") for c in doc["channels"].values()}
    # one consumer group: the render handler records the job itself (no mirror of core-api's jobs)
    assert groups - {None} == {"pdf-service"}
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {"pdf.requested", "pdf.generated", "pdf.failed"}


def test_core_api_asyncapi_is_up_to_date():
    doc = declared_asyncapi(
        "core-api", publishes=["pdf.requested"], subscribes=["pdf.generated", "pdf.failed"]
    )
    assert normalised(doc) == json.loads((DOCS / "core-api.json").read_text())
