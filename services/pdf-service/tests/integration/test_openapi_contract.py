"""pdf-service's OpenAPI (issue 10, item 9): `servers` is its gateway prefix and the paths are
relative to it, so the docs' "Try it out" reaches pdf-service and not core-api; operationIds,
per-operation security, the one error schema."""

from __future__ import annotations

from shared.errors import EXTRA_SHAPES, ErrorResponse

METHODS = ("get", "put", "post", "patch", "delete")


async def test_servers_name_the_gateway_prefix_and_paths_are_relative(pdf_client):
    spec = (await pdf_client.get("/api/v1/pdf-service/docs/openapi.json")).json()
    assert [s["url"] for s in spec["servers"]] == ["/api/v1/pdf-service"]
    assert set(spec["paths"]) == {
        "/health",
        "/health/ready",
        "/documents/{document_id}",
        "/pis/{pi_id}/pdf",
        "/contratos/{contrato_id}/pdf",
    }
    # and the service itself serves them under /api/v1 (the gateway strips its prefix to that)
    assert (await pdf_client.get("/api/v1/health")).status_code == 200


async def test_operations_are_documented(pdf_client):
    spec = (await pdf_client.get("/api/v1/pdf-service/docs/openapi.json")).json()
    assert "security" not in spec
    ids = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            ids.append(op["operationId"])
            if path.startswith("/health"):
                assert "security" not in op
            else:
                assert op["security"] == [{"BearerToken": []}]
                assert {"400", "401", "404", "429", "503"} <= set(op["responses"]), path
            for status, response in op["responses"].items():
                if int(status) >= 400 and path != "/health/ready":
                    schema = response["content"]["application/json"]["schema"]
                    # one schema per kind of error (shared.errors.EXTRA_SHAPES), the rest ErrorResponse
                    kind = EXTRA_SHAPES.get(int(status), ErrorResponse).__name__
                    assert schema == {"$ref": f"#/components/schemas/{kind}"}
    assert len(set(ids)) == len(ids) == 5
