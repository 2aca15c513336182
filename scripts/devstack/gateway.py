"""Render Traefik's static config for given ports and a runtime dynamic directory.

The checked-in `gateway/traefik.yml` is valid as is for the default ports; for other ports (tests,
overrides) it is loaded, adjusted and written next to a copy of `gateway/dynamic/`.
The dynamic files are Go templates reading backend URLs from the environment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_DIR = ROOT / "gateway"
ROLLOUT_FILE = "pdf-rollout.yml"


def render_gateway(
    runtime_dir: Path,
    *,
    web_port: int = 8080,
    internal_port: int = 8082,
    keep_rollout: bool = True,
    access_log: Path | None = None,
    health_checks: bool = True,
) -> Path:
    """Write `<runtime_dir>/traefik.yml` and `<runtime_dir>/dynamic/`; returns the static config path.

    `health_checks=False` drops the services' active health checks (`make up`: one server per
    service, so a failed check can only answer 503 where the retry middleware would have waited for
    the restarted process).
    """
    runtime_dir.mkdir(parents=True, exist_ok=True)
    dynamic = runtime_dir / "dynamic"
    dynamic.mkdir(exist_ok=True)
    for src in (GATEWAY_DIR / "dynamic").glob("*.yml"):
        dest = dynamic / src.name
        if src.name == ROLLOUT_FILE and keep_rollout and dest.exists():
            continue  # the current split survives restarts
        if health_checks:
            shutil.copyfile(src, dest)
        else:
            dest.write_text(_without_health_checks(src.read_text()))
    static = yaml.safe_load((GATEWAY_DIR / "traefik.yml").read_text())
    static["entryPoints"]["web"]["address"] = f"127.0.0.1:{web_port}" if web_port != 8080 else ":8080"
    static["entryPoints"]["internal"]["address"] = f"127.0.0.1:{internal_port}"
    static["providers"]["file"]["directory"] = str(dynamic)
    if access_log is not None:
        static.setdefault("accessLog", {})["filePath"] = str(access_log)
    out = runtime_dir / "traefik.yml"
    out.write_text(yaml.safe_dump(static, sort_keys=False))
    return out


#: the services whose only server is the process itself (the PDF split's halves keep theirs: the
#: failover to core-api relies on pdf-service-pdf's health)
SINGLE_SERVER_SERVICES = ("core-api", "pdf-service")


def _without_health_checks(text: str) -> str:
    """Drop the `healthCheck:` block of SINGLE_SERVER_SERVICES (edited as text: the file is a Go
    template, not plain YAML)."""
    out: list[str] = []
    skip_indent: int | None = None
    service = ""
    for line in text.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        if indent == 4 and line.rstrip().endswith(":"):
            service = line.strip()[:-1]
        if line.strip() == "healthCheck:" and service in SINGLE_SERVER_SERVICES:
            skip_indent = indent
            continue
        out.append(line)
    return "".join(out)


COMPOSE_STATIC = ROOT / "deploy" / "compose" / "traefik.yml"
COMPOSE_HEADER = """\
# GENERATED from gateway/traefik.yml by `python -m devstack.gateway` (a test fails on drift).
# Compose differs only in: the internal entry point listens on the compose network (Prometheus
# scrapes gateway:8082; the port is not published to the host) and the dynamic files are mounted
# at /etc/traefik/dynamic.
"""


def compose_static() -> str:
    """gateway/traefik.yml as compose needs it."""
    static = yaml.safe_load((GATEWAY_DIR / "traefik.yml").read_text())
    static["entryPoints"]["internal"]["address"] = ":8082"
    static["providers"]["file"]["directory"] = "/etc/traefik/dynamic"
    return COMPOSE_HEADER + yaml.safe_dump(static, sort_keys=False)


if __name__ == "__main__":
    COMPOSE_STATIC.parent.mkdir(parents=True, exist_ok=True)
    COMPOSE_STATIC.write_text(compose_static())
    print(f"wrote {COMPOSE_STATIC.relative_to(ROOT)}")
