"""The domain, one package per area. Each exposes `controllers` and `documents`; the app factory
collects them from `AREAS`, so adding an area is one line here. An area whose routes depend on
settings exports `controllers_for(settings)` instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core_api.domain import (
    alugueis,
    auth,
    clientes,
    contratos,
    documentos,
    empresas,
    ocupacao,
    pdf_jobs,
    pis,
    placas,
    regioes,
    users,
)

if TYPE_CHECKING:
    from core_api.settings import CoreApiSettings

AREAS = [
    empresas,
    users,
    auth,
    regioes,
    placas,
    clientes,
    alugueis,
    pis,
    contratos,
    documentos,
    pdf_jobs,
    ocupacao,
]


def all_controllers(settings: CoreApiSettings) -> list:
    return [
        c
        for area in AREAS
        for c in (area.controllers_for(settings) if hasattr(area, "controllers_for") else area.controllers)
    ]


def all_plugins(settings: CoreApiSettings) -> list:
    """Litestar plugins an area needs (an area may export `plugins_for(settings)`)."""
    return [p for area in AREAS if hasattr(area, "plugins_for") for p in area.plugins_for(settings)]


def all_documents() -> list:
    return [d for area in AREAS for d in area.documents]


def all_on_ready() -> list:
    """Lifespan hooks run once MongoDB is initialised (an area may export `on_ready`)."""
    return [h for area in AREAS for h in getattr(area, "on_ready", [])]


def all_on_close() -> list:
    """Lifespan hooks run at shutdown (an area may export `on_close`)."""
    return [h for area in AREAS for h in getattr(area, "on_close", [])]
