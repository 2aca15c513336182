"""Static checks of deploy/compose.yaml and the service Dockerfiles (no Docker engine here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from devstack.gateway import COMPOSE_STATIC, compose_static

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SERVICES = {"core-api": ("core_api", 4000), "pdf-service": ("pdf_service", 4100)}
SECRETS = ("JWT_SECRET", "METRICS_PASSWORD", "INTERNAL_TOKEN", "GRAFANA_ADMIN_PASSWORD")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_matches_the_compose_spec():
    checker = Path(sys.executable).parent / "check-jsonschema"
    out = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_required_secrets_have_no_defaults():
    text = COMPOSE.read_text()
    for name in SECRETS:
        assert re.search(rf"\$\{{{name}:\?[^}}]+\}}", text), f"{name} must be required (${{{name}:?...}})"
    assert "dev-only" not in text and "dev-metrics-password" not in text


def test_builds_and_mounts_point_at_real_files(compose):
    for name, svc in compose["services"].items():
        if build := svc.get("build"):
            context = (DEPLOY / build["context"]).resolve()
            assert (context / build["dockerfile"]).is_file(), name
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"
        image = svc.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag"


def test_prometheus_targets_are_compose_services(compose):
    prom = yaml.safe_load((DEPLOY / "observability" / "prometheus.yml").read_text())
    targets = [
        t for job in prom["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]
    ]
    for target in targets:
        host, port = target.split(":")
        if host == "localhost":
            continue
        assert host in compose["services"], target
        if host in SERVICES:
            assert int(port) == SERVICES[host][1]


def test_compose_traefik_static_is_generated_from_the_gateway_config():
    assert COMPOSE_STATIC.read_text() == compose_static(), (
        "run: PYTHONPATH=scripts python -m devstack.gateway"
    )


@pytest.mark.parametrize("service", list(SERVICES))
def test_dockerfile_is_slim_non_root_with_healthcheck_and_init(service):
    module, port = SERVICES[service]
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    assert re.search(r"^FROM \S+ AS build$", text, re.M) and re.search(r"^FROM \S+ AS runtime$", text, re.M)
    assert "slim" in text
    assert re.search(r"^USER 10001$", text, re.M)
    assert f"uv sync --frozen --no-dev --package {service}" in text
    assert f"http://127.0.0.1:{port}/api/v1/health" in text and "HEALTHCHECK" in text
    assert re.search(rf'ENTRYPOINT \["tini", "--", "python", "-m", "{module}"\]', text)
    for source in re.findall(r"^COPY (?!--from)(\S+) ", text, re.M):
        assert (ROOT / source).exists(), f"{service}: COPY {source} does not exist"
