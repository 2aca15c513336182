"""HTTP-level contract of pdf-service: OPTIONS/405 and the one error shape (issue 10)."""

from __future__ import annotations

import re

from litestar.routes import HTTPRoute


async def test_options_and_405_list_every_method_of_every_path(pdf_client, token_for):
    routes = [r for r in pdf_client.app.routes if isinstance(r, HTTPRoute)]
    assert len(routes) > 5
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "65f000000000000000000000", route.path_format)
        for headers in ({}, token_for("65f000000000000000000001")):
            r = await pdf_client.options(path, headers=headers)
            assert r.status_code == 204, (path, r.text)
            assert set(r.headers["allow"].split(", ")) == set(route.methods), path
        r = await pdf_client.request("PUT", path)
        assert r.status_code == 405, (path, r.text)
        assert set(r.headers["allow"].split(", ")) == set(route.methods), path
        assert r.json()["statusCode"] == 405


async def test_deeply_nested_json_is_a_400(pdf_client, token_for):
    """pdf-service has no JSON body routes today; the shared request class still refuses the body
    before any handler would see it (same code path as core-api's)."""
    from shared.errors import ApiRequest

    assert pdf_client.app.request_class is ApiRequest


async def test_errors_have_the_camelcase_shape(pdf_client, token_for):
    r = await pdf_client.get("/api/v1/documents/65f000000000000000000000")
    assert r.status_code == 401 and r.json()["statusCode"] == 401
    r = await pdf_client.get(
        "/api/v1/documents/65f000000000000000000000", headers=token_for("65f000000000000000000001")
    )
    assert r.status_code == 404 and set(r.json()) >= {"statusCode", "detail"}
