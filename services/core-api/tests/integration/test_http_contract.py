"""HTTP-level contract of core-api: hostile JSON, OPTIONS/405 and the one error shape (issue 10)."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

DEEP = 1_500  # the sweep's 2 KB body nested past Python's recursion limit


def _deep_bodies(depth: int) -> list[str]:
    return [
        "[" * depth + "]" * depth,
        '{"email": ' + "[" * depth + "]" * depth + ', "password": "x"}',
        '{"empresa": ' + '{"a": ' * depth + "1" + "}" * depth + "}",
    ]


def _concrete(path_format: str) -> str:
    return re.sub(r"\{[^}]+\}", "65f000000000000000000000", path_format)


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"])
async def test_deeply_nested_json_is_a_400_without_a_token(core_client, path):
    for body in _deep_bodies(DEEP):
        r = await core_client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json() == {
            "statusCode": 400,
            "detail": "the JSON body is nested too deeply; send a flatter document",
            "extra": [{"key": None, "message": "nested too deeply", "source": "body"}],
        }


async def test_deeply_nested_json_is_a_400_on_authenticated_routes(core_client, make_tenant):
    tenant = await make_tenant()
    for method, path in [("POST", "/api/v1/regioes"), ("PATCH", "/api/v1/empresa"), ("POST", "/api/v1/pis")]:
        for body in _deep_bodies(DEEP):
            r = await core_client.request(
                method,
                path,
                content=body,
                headers={"Content-Type": "application/json", **tenant.admin_headers},
            )
            assert r.status_code == 400, (method, path, r.text)
            assert r.json()["statusCode"] == 400


async def test_nesting_below_the_limit_is_an_ordinary_validation_error(core_client, make_tenant):
    tenant = await make_tenant()
    r = await core_client.post(
        "/api/v1/regioes",
        content=_deep_bodies(500)[2],
        headers={"Content-Type": "application/json", **tenant.admin_headers},
    )
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Validation failed")


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/65f000000000000000000000"])
@pytest.mark.parametrize("who", ["anonymous", "admin", "user"])
async def test_options_on_admin_only_users_routes_is_204(core_client, make_tenant, path, who):
    tenant = await make_tenant()
    headers = {"anonymous": {}, "admin": tenant.admin_headers, "user": tenant.user_headers}[who]
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    for extra in ({}, preflight):
        r = await core_client.options(path, headers={**headers, **extra})
        assert r.status_code == 204, r.text
        expected = "GET, OPTIONS, POST" if path.endswith("users") else "DELETE, GET, OPTIONS, PATCH"
        assert r.headers["allow"] == expected


async def test_options_and_405_list_every_method_of_every_path(core_client):
    """`Allow` names exactly the methods each path serves (OPTIONS /regioes said `OPTIONS, POST`)."""
    routes = [r for r in core_client.app.routes if isinstance(r, HTTPRoute)]
    assert len(routes) > 20
    for route in routes:
        path = _concrete(route.path_format)
        r = await core_client.options(path)
        assert r.status_code == 204, (path, r.text)
        assert set(r.headers["allow"].split(", ")) == set(route.methods), path
        if "PUT" not in route.methods:
            r = await core_client.put(path)
            assert r.status_code == 405, (path, r.text)
            assert set(r.headers["allow"].split(", ")) == set(route.methods), path
            assert r.json() == {"statusCode": 405, "detail": "Method Not Allowed", "extra": None}


async def test_errors_have_the_camelcase_shape(core_client, make_tenant):
    tenant = await make_tenant()
    r = await core_client.get("/api/v1/regioes")
    assert r.status_code == 401
    # `extra` is always there, in its kind's shape: null for authentication (shared.errors)
    assert r.json() == {"statusCode": 401, "detail": r.json()["detail"], "extra": None}
    r = await core_client.get("/api/v1/users", headers=tenant.user_headers)
    assert r.status_code == 403 and r.json()["statusCode"] == 403
    r = await core_client.get("/api/v1/regioes/65f000000000000000000000", headers=tenant.user_headers)
    assert r.status_code == 404 and r.json()["statusCode"] == 404
    r = await core_client.get("/api/v1/regioes?pageSize=0", headers=tenant.user_headers)
    assert r.status_code == 400
    assert r.json()["statusCode"] == 400 and isinstance(r.json()["extra"], list)
