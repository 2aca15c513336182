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
) -> Path:
    """Write `<runtime_dir>/traefik.yml` and `<runtime_dir>/dynamic/`; returns the static config path."""
    runtime_dir.mkdir(parents=True, exist_ok=True)
    dynamic = runtime_dir / "dynamic"
    dynamic.mkdir(exist_ok=True)
    for src in (GATEWAY_DIR / "dynamic").glob("*.yml"):
        dest = dynamic / src.name
        if src.name == ROLLOUT_FILE and keep_rollout and dest.exists():
            continue  # the current split survives restarts
        shutil.copyfile(src, dest)
    static = yaml.safe_load((GATEWAY_DIR / "traefik.yml").read_text())
    static["entryPoints"]["web"]["address"] = f"127.0.0.1:{web_port}" if web_port != 8080 else ":8080"
    static["entryPoints"]["internal"]["address"] = f"127.0.0.1:{internal_port}"
    static["providers"]["file"]["directory"] = str(dynamic)
    if access_log is not None:
        static.setdefault("accessLog", {})["filePath"] = str(access_log)
    out = runtime_dir / "traefik.yml"
    out.write_text(yaml.safe_dump(static, sort_keys=False))
    return out


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
