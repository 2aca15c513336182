"""One route list (scripts/devstack/routes.py) for Traefik, Kubernetes and nginx: the generated files
are what the generator renders, nginx accepts its config, and every route is in every output."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from devstack.nginx import check_config, nginx_bin
from devstack.routes import NGINX_DIR, ROUTES, generated_files, render_nginx_rollout
from devstack.servers import ROOT


@pytest.mark.parametrize("path", list(generated_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_regenerating_changes_nothing(path):
    assert path.read_text() == generated_files()[path], "run: PYTHONPATH=scripts python -m devstack.routes"


def test_the_committed_nginx_config_passes_nginx_t(tmp_path):
    for src in NGINX_DIR.glob("*.conf"):
        text = src.read_text().replace("/etc/nginx/outdoor", str(tmp_path))
        (tmp_path / src.name).write_text(text.replace("pid /tmp/nginx.pid", f"pid {tmp_path}/nginx.pid"))
    out = check_config(tmp_path / "nginx.conf")
    assert "test is successful" in out


def test_a_broken_nginx_config_is_refused(tmp_path):
    """The check above can fail: nginx -t refuses an unknown upstream in the split."""
    for src in NGINX_DIR.glob("*.conf"):
        (tmp_path / src.name).write_text(src.read_text().replace("/etc/nginx/outdoor", str(tmp_path)))
    rollout = tmp_path / "pdf-rollout.conf"
    rollout.write_text(rollout.read_text().replace("core_api_pdf;", "no_such_upstream;") + "}")
    with pytest.raises(RuntimeError, match="nginx -t refused"):
        check_config(tmp_path / "nginx.conf")


def test_every_route_is_in_every_gateway():
    files = generated_files()
    traefik = yaml.safe_load(files[ROOT / "gateway/dynamic/routes.yml"])["http"]["routers"]
    k8s = [
        (r["match"], r.get("priority"))
        for d in yaml.safe_load_all(files[ROOT / "deploy/k8s/base/gateway/ingressroutes.yaml"])
        for r in d["spec"]["routes"]
    ]
    nginx = files[NGINX_DIR / "nginx.conf"]
    for route in ROUTES:
        assert traefik[route.name]["rule"] == route.traefik_rule
        assert list(traefik[route.name].get("middlewares", [])) == list(route.middlewares)
        if route.k8s:
            assert (route.traefik_rule, route.priority) in k8s, route.name
        if route.nginx and (route.entry == "web" or route.service in ("core-api", "pdf-service")):
            assert f"# {route.name}\n" in nginx, route.name
        elif not route.nginx:  # a method/header variant of a path route nginx serves already
            assert (route.header or route.method) and any(
                other.nginx and other.nginx_regex == route.nginx_regex for other in ROUTES
            ), route.name


def test_nginx_tries_routes_in_traefik_priority_order():
    nginx = generated_files()[NGINX_DIR / "nginx.conf"]
    order = re.findall(r"location ~ \S+ \{  # (\S+)", nginx)
    priorities = {r.name: r.priority for r in ROUTES}
    assert order == sorted(order, key=lambda n: -priorities[n]), order


@pytest.mark.parametrize("percent", [-1, 101])
def test_a_pdf_share_outside_0_100_is_refused(percent):
    with pytest.raises(ValueError):
        render_nginx_rollout(percent)


def test_rollback_and_full_rollout_render_single_targets():
    assert "*   core_api_pdf;" in render_nginx_rollout(0) and "pdf_service_pdf;" not in render_nginx_rollout(
        0
    )
    assert "*   pdf_service_pdf;" in render_nginx_rollout(100)
    assert "25%   pdf_service_pdf;" in render_nginx_rollout(25)


def test_nginx_is_debians():
    out = subprocess.run([nginx_bin(), "-v"], capture_output=True, text=True, check=True)
    assert "nginx/" in out.stderr
    assert shutil.which("nginx") or nginx_bin() == "/usr/sbin/nginx"
