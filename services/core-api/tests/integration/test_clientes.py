"""/clientes CRUD and bad input."""

from core_api.domain.clientes.models import Cliente

CNPJ = "11.222.333/0001-81"
CPF = "529.982.247-25"


async def test_cliente_crud_and_list(core_client, make_tenant):
    t = await make_tenant()
    h = t.user_headers
    r = await core_client.post(
        "/api/v1/clientes",
        json={
            "nome": "Padaria Pão de Ouro",
            "documento": CNPJ,
            "email": "Contato@Padaria.com",
            "telefone": "(11) 3333-4444",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    padaria = r.json()
    assert padaria["documento"] == "11222333000181" and padaria["email"] == "contato@padaria.com"
    r = await core_client.post("/api/v1/clientes", json={"nome": "Ana Autônoma", "documento": CPF}, headers=h)
    assert r.status_code == 201 and r.json()["documento"] == "52998224725"
    ana = r.json()

    r = await core_client.get("/api/v1/clientes", headers=h)
    assert [c["nome"] for c in r.json()["items"]] == ["Ana Autônoma", "Padaria Pão de Ouro"]
    r = await core_client.get("/api/v1/clientes", params={"sort": "-nome", "pageSize": 1}, headers=h)
    assert r.json()["total"] == 2 and r.json()["items"][0]["nome"] == "Padaria Pão de Ouro"
    r = await core_client.get("/api/v1/clientes", params={"q": "11222333"}, headers=h)
    assert [c["id"] for c in r.json()["items"]] == [padaria["id"]]

    r = await core_client.patch(
        f"/api/v1/clientes/{ana['id']}", json={"responsavel": "Ana", "email": None}, headers=h
    )
    assert r.status_code == 200 and r.json()["responsavel"] == "Ana" and r.json()["email"] is None
    assert (await core_client.get(f"/api/v1/clientes/{ana['id']}", headers=h)).json()["responsavel"] == "Ana"
    assert (await core_client.delete(f"/api/v1/clientes/{ana['id']}", headers=h)).status_code == 204
    assert (await core_client.get(f"/api/v1/clientes/{ana['id']}", headers=h)).status_code == 404


async def test_bad_cliente_input_is_400_and_stores_nothing(core_client, make_tenant, in_app_loop):
    t = await make_tenant()
    h = t.user_headers
    kept = (await core_client.post("/api/v1/clientes", json={"nome": "Fica"}, headers=h)).json()

    async def stored() -> list[dict]:
        return (
            await Cliente.get_pymongo_collection()
            .find({}, {"_id": 0, "created_at": 0, "updated_at": 0})
            .to_list()
        )

    before = in_app_loop(stored)
    for body in (
        {},
        {"nome": ""},
        {"nome": ["a"]},
        {"nome": {"$regex": ".*"}},
        {"nome": "X", "documento": "123.456.789-00"},  # wrong CPF check digits
        {"nome": "X", "documento": "11.222.333/0001-00"},
        {"nome": "X", "email": "nope"},
        {"nome": "X", "telefone": "call me<script>"},
        {"nome": "X", "empresaId": t.empresa_id},
        {"nome": "X", "id": "000000000000000000000000"},
    ):
        r = await core_client.post("/api/v1/clientes", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
    for change in ({"nome": None}, {"documento": "1"}, {"createdAt": "2020-01-01T00:00:00Z"}):
        r = await core_client.patch(f"/api/v1/clientes/{kept['id']}", json=change, headers=h)
        assert r.status_code == 400, (change, r.text)
    assert (await core_client.get("/api/v1/clientes", params={"pageSize": 101}, headers=h)).status_code == 400
    assert (await core_client.get("/api/v1/clientes/12345", headers=h)).status_code == 404
    assert in_app_loop(stored) == before


async def test_a_cliente_with_alugueis_cannot_be_deleted(core_client, make_tenant, make_inventario):
    t = await make_tenant()
    inv = make_inventario(t, clientes=2)
    h = t.user_headers
    r = await core_client.post(
        "/api/v1/alugueis",
        json={
            "placaId": inv.placa_ids[0],
            "clienteId": inv.cliente_ids[0],
            "inicio": "2027-01-01T00:00:00-03:00",
            "fim": "2027-02-01T00:00:00-03:00",
            "valorCentavos": 100_000,
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await core_client.delete(f"/api/v1/clientes/{inv.cliente_ids[0]}", headers=h)
    assert r.status_code == 409
    extra = r.json()["extra"]
    assert extra["reason"] == "in_use"
    assert [(c["resource"], c["count"]) for c in extra["conflicts"]] == [("aluguel", 1)]
    assert (await core_client.get(f"/api/v1/clientes/{inv.cliente_ids[0]}", headers=h)).status_code == 200
    # a cliente nobody references can go
    assert (await core_client.delete(f"/api/v1/clientes/{inv.cliente_ids[1]}", headers=h)).status_code == 204
