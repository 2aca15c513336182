"""core-api's OpenAPI is a complete contract (issue 10, item 9): every status each operation can
answer with the one error schema, an operationId, security per operation (health and auth public),
links for stateful clients; and the list filters on dates read dates as bodies do."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

METHODS = ("get", "put", "post", "patch", "delete")
ERROR_REF = "#/components/schemas/ErrorResponse"
#: the error body of each kind (one `extra` shape per kind, shared.errors); other statuses: ErrorResponse
KIND_SCHEMAS = {
    "400": "ValidationError",
    "401": "UnauthorizedError",
    "403": "ForbiddenError",
    "404": "NotFoundError",
    "409": "ConflictError",
    "413": "TooLargeError",
    "415": "UnsupportedMediaTypeError",
    "422": "IdempotencyError",
    "429": "RateLimitError",
    "503": "UnavailableError",
}
PUBLIC = {
    "/api/v1/health",
    "/api/v1/health/ready",
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/refresh",
}


@pytest.fixture
async def spec(core_client):
    r = await core_client.get("/api/v1/docs/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


async def test_every_operation_has_a_unique_camelcase_operation_id(spec):
    ids = [op.get("operationId") for _, _, op in operations(spec)]
    assert len(ids) > 40 and all(ids)
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]+", i) for i in ids), ids
    assert {"listRegioes", "createRegiao", "getRegiao", "login", "live", "ready"} <= set(ids)


async def test_every_error_status_is_documented_with_the_one_error_schema(spec):
    for path, method, op in operations(spec):
        responses = op["responses"]
        for common in ("400", "429", "503"):
            assert common in responses, (method, path, common)
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if int(status) >= 400 and path != "/api/v1/health/ready":
                expected = (
                    f"#/components/schemas/{KIND_SCHEMAS[status]}" if status in KIND_SCHEMAS else ERROR_REF
                )
                assert response["content"]["application/json"]["schema"] == {"$ref": expected}, (
                    method,
                    path,
                    status,
                )
    # every kind's schema is in the document (ErrorResponse only if a status outside the kinds is used)
    for name in {*KIND_SCHEMAS.values()} | ({"ErrorResponse"} & set(spec["components"]["schemas"])):
        schema = spec["components"]["schemas"][name]
        assert set(schema["properties"]) == {"statusCode", "detail", "extra"}, name
        assert {"statusCode", "detail"} <= set(schema["required"]), name


async def test_security_is_per_operation_and_health_and_auth_are_public(spec):
    assert "security" not in spec  # no global requirement that public routes would inherit
    for path, method, op in operations(spec):
        if path in PUBLIC:
            assert "security" not in op, (method, path)
            assert "401" not in op["responses"] or path in {"/api/v1/auth/login", "/api/v1/auth/refresh"}
        else:
            assert op["security"] == [{"BearerToken": []}], (method, path)
            assert "401" in op["responses"], (method, path)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/api/v1/auth/login", {"200", "401", "429"}),
        ("post", "/api/v1/auth/register", {"202"}),
        ("post", "/api/v1/regioes", {"201", "409", "413"}),
        ("delete", "/api/v1/regioes/{regiao_id}", {"204", "404", "409"}),
        ("get", "/api/v1/users", {"200", "401", "403"}),
        ("get", "/api/v1/alugueis", {"200", "404"}),
        ("post", "/api/v1/pis", {"201", "404", "409"}),
        ("post", "/api/v1/contratos", {"201", "404", "409"}),
    ],
)
async def test_domain_statuses_are_documented(spec, method, path, statuses):
    assert statuses <= set(spec["paths"][path][method]["responses"])


async def test_creating_operations_link_to_the_created_resource(spec):
    links = spec["paths"]["/api/v1/regioes"]["post"]["responses"]["201"]["links"]
    assert links["getRegiao"] == {
        "operationId": "getRegiao",
        "parameters": {"regiao_id": "$response.body#/id"},
        "description": "the regiao_id of the resource just created",
    }
    assert {"updateRegiao", "deleteRegiao"} <= set(links)
    pi_links = spec["paths"]["/api/v1/pis"]["post"]["responses"]["201"]["links"]
    assert {"getPi", "cancelPi", "requestPiPdf", "piPdf"} <= set(pi_links)


# a plain day ("2027-03-01") is a day in the empresa's time zone (issue 15): accepted, see test_pi_itens
@pytest.mark.parametrize("value", ["0.5", "1700000000", "2027-03-01T00:00:00", "2027-02-30", "amanhã"])
@pytest.mark.parametrize("path", ["/api/v1/alugueis", "/api/v1/pis", "/api/v1/placas/disponiveis"])
async def test_date_filters_refuse_numbers_and_naive_dates(core_client, make_tenant, path, value):
    tenant = await make_tenant()
    other = "2027-03-10T00:00:00-03:00"
    for params in ({"inicio": value, "fim": other}, {"inicio": "2027-03-01T00:00:00Z", "fim": value}):
        r = await core_client.get(path, params=params, headers=tenant.user_headers)
        assert r.status_code == 400, (params, r.text)
        body = r.json()
        assert body["statusCode"] == 400
        key = "inicio" if params["inicio"] == value else "fim"
        assert body["extra"][0]["key"] == key and body["extra"][0]["source"] == "query"


@pytest.mark.parametrize("path", ["/api/v1/alugueis", "/api/v1/pis", "/api/v1/placas/disponiveis"])
async def test_date_filters_take_aware_iso_dates(core_client, make_tenant, path):
    tenant = await make_tenant()
    params = {"inicio": "2027-03-01T00:00:00-03:00", "fim": "2027-03-10T00:00:00Z"}
    r = await core_client.get(path, params=params, headers=tenant.user_headers)
    assert r.status_code == 200, r.text


async def test_bodies_refuse_numbers_as_dates(core_client, make_tenant):
    tenant = await make_tenant()
    body = {"placaId": "65f000000000000000000000", "clienteId": "65f000000000000000000000"}
    for inicio in (0.5, "0.5", 1700000000):
        r = await core_client.post(
            "/api/v1/alugueis",
            json={**body, "inicio": inicio, "fim": "2027-03-10T00:00:00Z", "valorCentavos": 100},
            headers=tenant.admin_headers,
        )
        assert r.status_code == 400, r.text
        assert any(e["key"] == "inicio" for e in r.json()["extra"]), r.text


def _default_summary(op) -> str:
    """What Litestar writes when a handler gives no summary: its name in CamelCase (`CancelPi`)."""
    op_id = op["operationId"]
    return op_id[0].upper() + op_id[1:]


async def test_every_operation_has_a_summary_a_description_and_body_examples(spec):
    """Issue 15: summaries, descriptions and request examples on every operation (the aluguéis,
    disponíveis, PIs and contratos operations had none)."""
    missing = []
    for path, method, op in operations(spec):
        summary = op.get("summary") or ""
        if not summary or summary == _default_summary(op):
            missing.append(f"{method} {path}: summary")
        if len((op.get("description") or "").strip()) < 20:
            missing.append(f"{method} {path}: description")
        for media_type, media in (op.get("requestBody") or {}).get("content", {}).items():
            if media_type != "application/json":
                continue
            schema = media["schema"]
            if "$ref" in schema:
                schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            if not (media.get("example") or media.get("examples") or schema.get("examples")):
                missing.append(f"{method} {path}: request example")
    assert not missing, missing


def _request_examples(spec):
    for path, method, op in operations(spec):
        media = (op.get("requestBody") or {}).get("content", {}).get("application/json")
        if media is None:
            continue
        schema = media["schema"]
        component = (
            spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
        )
        examples = [*component.get("examples", [])]
        examples += [
            e["value"] if isinstance(e, dict) and "value" in e else e
            for e in media.get("examples", {}).values()
        ]
        if "example" in media:
            examples.append(media["example"])
        for example in examples:
            yield f"{method} {path}", schema, example


async def test_request_examples_validate_against_their_schemas(spec):
    """Fuzzing sends the documented examples first (tests/contract/test_fuzz.py): each must be valid
    against its own schema, formats included (a day where a date-time is declared would not be)."""
    import jsonschema

    # jsonschema checks date-time only with an optional package: check both formats here
    formats = jsonschema.FormatChecker()
    formats.checks("date-time", raises=ValueError)(
        lambda v: not isinstance(v, str) or ("T" in v and datetime.fromisoformat(v).tzinfo is not None)
    )
    formats.checks("date", raises=ValueError)(lambda v: not isinstance(v, str) or bool(date.fromisoformat(v)))
    assert not formats.conforms("2027-03-01", "date-time") and formats.conforms("2027-03-01", "date")

    checked = 0
    for where, schema, example in _request_examples(spec):
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": spec["components"]},
            format_checker=formats,
        )
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, (where, example, errors)
        checked += 1
    assert checked >= 15
