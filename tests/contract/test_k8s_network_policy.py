"""NetworkPolicies keep the internal endpoints and the datastores internal (static: no cluster here).

A small evaluator of the rendered policies (Kubernetes semantics: a pod selected by any policy takes
only what some policy allows; peers are pod labels in a namespace) answers "may pod A reach port P of
pod B?" for the cases that matter."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# the kustomize helpers live once, in test_gateway_k8s.py (importlib mode: load it by its path)
_spec = importlib.util.spec_from_file_location(
    "k8s_gateway_checks", Path(__file__).with_name("test_gateway_k8s.py")
)
gw = sys.modules.get("k8s_gateway_checks") or importlib.util.module_from_spec(_spec)
if "k8s_gateway_checks" not in sys.modules:
    sys.modules[_spec.name] = gw
    _spec.loader.exec_module(gw)

NS = "outdoor"


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str = NS
    #: container port names → numbers (named ports in policies resolve against the target pod)
    ports: tuple[tuple[str, int], ...] = ()

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name}


CORE_API = Pod("core-api", ports=(("http", 4000), ("internal", 4001)))
PDF_SERVICE = Pod("pdf-service", ports=(("http", 4100),))
PDF_WORKER = Pod("pdf-worker", ports=(("metrics", 4101),))
MONGODB = Pod("mongodb", ports=(("mongodb", 27017),))
REDIS = Pod("redis", ports=(("redis", 6379),))
TRAEFIK = Pod("traefik", namespace="traefik")
PROMETHEUS = Pod("prometheus", namespace="monitoring")
OTHER = Pod("some-other-app", namespace="other")


def selects(selector: dict, labels: dict[str, str]) -> bool:
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def peer_matches(peer: dict, src: Pod) -> bool:
    if "ipBlock" in peer:
        return False  # pods are not addressed by IP here
    if "namespaceSelector" in peer:
        ns_ok = selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": src.namespace})
    else:
        ns_ok = src.namespace == NS
    pod_ok = selects(peer.get("podSelector", {}), src.labels)
    return ns_ok and pod_ok


def port_matches(rule_port: dict, dst: Pod, port: int) -> bool:
    p = rule_port.get("port")
    if p is None:
        return True
    if isinstance(p, str):
        return dict(dst.ports).get(p) == port
    return p == port


def allowed(policies: list[dict], src: Pod, dst: Pod, port: int) -> bool:
    applying = [
        p
        for p in policies
        if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
        and dst.namespace == NS
        and selects(p["spec"]["podSelector"], dst.labels)
    ]
    if not applying:
        return True  # not isolated
    for p in applying:
        for rule in p["spec"].get("ingress", []):
            froms = rule.get("from")
            ports = rule.get("ports")
            if froms is not None and not any(peer_matches(peer, src) for peer in froms):
                continue
            if ports is not None and not any(port_matches(rp, dst, port) for rp in ports):
                continue
            return True
    return False


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> list[dict]:
    docs = gw.build(tmp_path_factory.mktemp("netpol"), ("dev-datastores",))
    found = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert found
    return found


@pytest.mark.parametrize(
    ("src", "dst", "port", "expected"),
    [
        # core-api's service-to-service port: pdf-service (API and worker) only
        (PDF_SERVICE, CORE_API, 4001, True),
        (PDF_WORKER, CORE_API, 4001, True),
        (TRAEFIK, CORE_API, 4001, False),
        (PROMETHEUS, CORE_API, 4001, False),
        (OTHER, CORE_API, 4001, False),
        (MONGODB, CORE_API, 4001, False),
        # the public HTTP ports: from the cluster (Traefik routes, Prometheus scrapes)
        (TRAEFIK, CORE_API, 4000, True),
        (PROMETHEUS, CORE_API, 4000, True),
        (TRAEFIK, PDF_SERVICE, 4100, True),
        (PROMETHEUS, PDF_WORKER, 4101, True),
        # a port no policy names stays closed
        (TRAEFIK, PDF_SERVICE, 9999, False),
        # the datastores: only the services
        (CORE_API, MONGODB, 27017, True),
        (PDF_SERVICE, MONGODB, 27017, True),
        (PDF_WORKER, REDIS, 6379, True),
        (CORE_API, REDIS, 6379, True),
        (TRAEFIK, MONGODB, 27017, False),
        (TRAEFIK, REDIS, 6379, False),
        (OTHER, REDIS, 6379, False),
        (PROMETHEUS, MONGODB, 27017, False),
        (Pod("gateway-errors"), REDIS, 6379, False),
    ],
    ids=lambda v: v.name if isinstance(v, Pod) else str(v),
)
def test_who_may_reach_what(policies, src, dst, port, expected):
    assert allowed(policies, src, dst, port) is expected


def test_every_pod_of_the_namespace_is_isolated(tmp_path):
    docs = gw.build(tmp_path, ("dev-datastores",))
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    assert workloads
    for w in workloads:
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert any(
            selects(p["spec"]["podSelector"], labels)
            for p in policies
            if p["metadata"]["name"] == "default-deny-ingress"
        )


def test_without_the_policies_the_evaluator_allows_everything():
    """The evaluator can say no only because of the policies (a guard against a test that always passes)."""
    assert allowed([], TRAEFIK, CORE_API, 4001) is True
