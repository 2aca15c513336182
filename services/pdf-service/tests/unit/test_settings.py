"""pdf-service settings: the render time limit must fit in a job's lease; ports and defaults."""

from __future__ import annotations

import pytest
from pdf_service.settings import PdfServiceSettings
from pydantic import ValidationError


def test_defaults_keep_a_render_inside_its_lease():
    s = PdfServiceSettings(environment="test")
    assert s.render_timeout_seconds < s.job_lease_seconds == s.event_claim_idle_ms / 1000 * 0.8


def test_a_render_time_limit_longer_than_the_lease_is_refused():
    with pytest.raises(ValidationError, match="PDF_RENDER_TIMEOUT_SECONDS must be below 80%"):
        PdfServiceSettings(environment="test", event_claim_idle_ms=10_000, render_timeout_seconds=8.0)
    ok = PdfServiceSettings(environment="test", event_claim_idle_ms=10_000, render_timeout_seconds=7.9)
    assert ok.job_lease_seconds == 8.0


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PDF_SERVICE_PORT", "4999")
    monkeypatch.setenv("PDF_WORKER_METRICS_PORT", "0")
    monkeypatch.setenv("PDF_RENDER_TIMEOUT_SECONDS", "12.5")
    monkeypatch.setenv("EVENT_CLAIM_IDLE_MS", "60000")
    s = PdfServiceSettings(environment="test")
    assert (s.port, s.worker_metrics_port, s.render_timeout_seconds) == (4999, 0, 12.5)


@pytest.mark.parametrize(
    "bad",
    [
        {"worker_metrics_port": 70000},
        {"worker_metrics_port": -1},
        {"worker_concurrency": 0},
        {"render_timeout_seconds": 0},
    ],
)
def test_out_of_range_values_are_refused(bad):
    with pytest.raises(ValidationError):
        PdfServiceSettings(environment="test", **bad)
