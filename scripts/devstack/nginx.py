"""Run Debian's nginx as the alternative gateway: a runtime copy of gateway/nginx/ for given ports and
backends (rendered by devstack.routes, the same route list as Traefik's), `nginx -t`, start, and the
PDF split changed at runtime (`set_pdf_share`: rewrite pdf-rollout.conf, then `nginx -s reload`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from devstack.routes import NginxSettings, nginx_files, render_nginx_rollout
from devstack.servers import MissingTool, Server, _spawn, wait_port


def nginx_bin() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise MissingTool("nginx not found: run `make deps` (installs Debian's nginx)")
    return found


def render_nginx_runtime(runtime_dir: Path, settings: NginxSettings) -> Path:
    """Write the config files for `settings` into runtime_dir; returns nginx.conf's path."""
    runtime_dir.mkdir(parents=True, exist_ok=True)
    settings = replace(
        settings,
        conf_dir=str(runtime_dir),
        runtime_dir=str(runtime_dir),
        access_log=str(runtime_dir / "access.json"),
        error_log=str(runtime_dir / "error.log"),
    )
    for name, text in nginx_files(settings).items():
        (runtime_dir / name).write_text(text)
    conf = runtime_dir / "nginx.conf"
    if os.geteuid() == 0:
        # as root nginx's workers run as nobody, who cannot enter a private temporary directory
        conf.write_text("user root;\n" + conf.read_text())
    return conf


def check_config(conf: Path) -> str:
    """`nginx -t` of a config; returns its output, raises with it when the config is refused."""
    out = subprocess.run(
        [nginx_bin(), "-t", "-c", str(conf), "-e", "stderr"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"nginx -t refused {conf}:\n{out.stderr}")
    return out.stderr


def start_nginx(conf: Path, web_port: int) -> Server:
    check_config(conf)
    workdir = conf.parent
    proc, log = _spawn("nginx", [nginx_bin(), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"], workdir)
    wait_port(web_port, proc, name="nginx")
    return Server("nginx", web_port, proc, workdir, log, {"url": f"http://127.0.0.1:{web_port}"})


def set_pdf_share(conf: Path, percent: int) -> None:
    """Change the share of PDF traffic sent to pdf-service (0 = rollback) and reload nginx."""
    rollout = conf.parent / "pdf-rollout.conf"
    tmp = rollout.with_suffix(".tmp")
    tmp.write_text(render_nginx_rollout(percent))
    os.replace(tmp, rollout)
    check_config(conf)
    subprocess.run(
        [nginx_bin(), "-c", str(conf), "-e", "stderr", "-s", "reload"], check=True, capture_output=True
    )


def pdf_share(conf: Path) -> int:
    match = re.search(r"^# pdf_percent=(\d+)$", (conf.parent / "pdf-rollout.conf").read_text(), re.M)
    assert match, "pdf-rollout.conf has no pdf_percent line"
    return int(match.group(1))
