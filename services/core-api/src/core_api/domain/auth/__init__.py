"""Domain area: auth. Exposes `controllers` (route handlers) and `documents` (Beanie models)."""

from __future__ import annotations

controllers: list = []
documents: list = []

__all__ = ["controllers", "documents"]
