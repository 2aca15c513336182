"""Run Debian's Prometheus against the local stack, with deploy/observability's rules.

`render_prometheus` copies deploy/observability/prometheus.yml with the local targets (the services'
ports, Traefik's internal entry point) and the metrics password, next to the rule files; `make up`
runs it under honcho and contract tests use it to prove every target is scraped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
PROMETHEUS_BIN = "/usr/bin/prometheus"


def render_prometheus(
    runtime_dir: Path,
    *,
    targets: dict[str, str],
    metrics_password: str,
    scrape_interval_seconds: int = 15,
) -> Path:
    """Write `<runtime_dir>/prometheus.yml` (+ rules, password file); `targets` maps job -> host:port.

    A job of the compose config without a local target (e.g. `pdf-worker` when the stack runs no
    worker) is left out: its compose host name would not resolve here and it would only show as down.
    """
    runtime_dir.mkdir(parents=True, exist_ok=True)
    rules = runtime_dir / "rules"
    if rules.exists():
        shutil.rmtree(rules)
    shutil.copytree(OBSERVABILITY / "rules", rules)
    secrets = runtime_dir / "secrets"
    secrets.mkdir(exist_ok=True)
    (secrets / "metrics_password").write_text(metrics_password)
    (secrets / "metrics_password").chmod(0o600)
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    interval = scrape_interval_seconds
    config["global"].update(
        scrape_interval=f"{interval}s",
        evaluation_interval=f"{interval}s",
        scrape_timeout=f"{min(interval, 10)}s",
    )
    config["scrape_configs"] = [job for job in config["scrape_configs"] if job["job_name"] in targets]
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = [targets[job["job_name"]]]
    out = runtime_dir / "prometheus.yml"
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    return out


def prometheus_args(config: Path, data_dir: Path, port: int) -> list[str]:
    return [
        PROMETHEUS_BIN,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=7d",
        "--log.level=warn",
    ]
