"""What request bodies may carry (issue 10, item 8): strong passwords kept byte-exact, and no control
characters in any text field."""

from __future__ import annotations

import uuid

import pytest
from core_api.domain.empresas.models import Empresa
from core_api.domain.regioes.models import Regiao
from core_api.domain.users.models import User

STRONG = "Reboque-Azul-Ventania-42"
WEAK = [
    "password",
    "12345678",
    "senha123",
    "mudar@123",
    "Senha@2024",
    "qwertyuiop",
    "aaaaaaaaaaaa",
    "iloveyou1",
]


def register_body(password: str, email: str | None = None, nome: str = "Maria Souza") -> dict:
    return {
        "empresa": {"nome": "Painéis do Sul"},
        "admin": {
            "nome": nome,
            "email": email or f"maria-{uuid.uuid4().hex[:8]}@example.com",
            "password": password,
        },
    }


@pytest.mark.parametrize("password", WEAK)
async def test_common_and_breached_passwords_are_refused(core_client, make_tenant, in_app_loop, password):
    async def counts() -> tuple[int, int]:
        return await Empresa.find_all().count(), await User.find_all().count()

    before = in_app_loop(counts)
    r = await core_client.post("/api/v1/auth/register", json=register_body(password))
    assert r.status_code == 400, r.text
    assert "too easy to guess" in r.text and "password" in r.text
    t = await make_tenant()
    body = {"nome": "Pedro", "email": f"pedro-{uuid.uuid4().hex[:8]}@example.com", "password": password}
    r = await core_client.post("/api/v1/users", json=body, headers=t.admin_headers)
    assert r.status_code == 400, r.text
    r = await core_client.patch(
        f"/api/v1/users/{t.user_id}", json={"password": password}, headers=t.admin_headers
    )
    assert r.status_code == 400, r.text
    after = in_app_loop(counts)
    assert after == (before[0] + 1, before[1] + 2)  # only make_tenant's empresa and users


async def test_the_users_own_email_or_name_is_not_a_password(core_client):
    email = f"joaquim.pereira-{uuid.uuid4().hex[:6]}@example.com"
    for password in (email, "JoaquimPereira", "joaquimpereira2026"):
        r = await core_client.post(
            "/api/v1/auth/register", json=register_body(password, email=email, nome="Joaquim Pereira")
        )
        assert r.status_code == 400, (password, r.text)
    assert (
        await core_client.post("/api/v1/auth/register", json=register_body(STRONG, email=email))
    ).status_code == 202


async def test_passwords_are_byte_exact(core_client):
    email = f"espacos-{uuid.uuid4().hex[:8]}@example.com"
    spaced = f"  {STRONG}  "
    assert (
        await core_client.post("/api/v1/auth/register", json=register_body(spaced, email=email))
    ).status_code == 202
    login = {"email": email, "password": spaced}
    assert (await core_client.post("/api/v1/auth/login", json=login)).status_code == 200
    # the same characters without the spaces are another password
    r = await core_client.post("/api/v1/auth/login", json={**login, "password": STRONG})
    assert r.status_code == 401


CONTROL = ["\x00", "\x07", "\x1b[31m", "\t", "\n", "\r", "\x7f", "\x85", "\x9b"]


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c[0]):04X}" for c in CONTROL])
async def test_control_characters_are_refused_in_text_fields(core_client, make_tenant, in_app_loop, char):
    t = await make_tenant()
    h = t.admin_headers
    cases = [
        ("POST", "/api/v1/regioes", {"nome": f"Zona{char}Norte"}, "nome"),
        ("POST", "/api/v1/clientes", {"nome": f"Padaria{char}", "documento": "11.222.333/0001-81"}, "nome"),
        ("PATCH", "/api/v1/empresa", {"nome": f"{char}Painéis"}, "nome"),
        (
            "POST",
            "/api/v1/users",
            {"nome": "Ana", "email": "ana@example.com", "password": f"{STRONG}{char}"},
            "password",
        ),
        ("POST", "/api/v1/auth/register", register_body(STRONG, nome=f"Maria{char}Souza"), "nome"),
    ]
    for method, path, body, field in cases:
        r = await core_client.request(method, path, json=body, headers=h)
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert "control characters" in r.text and field in r.text, (path, r.text)

    async def stored() -> int:
        return await Regiao.find({"nome": {"$regex": "Zona"}}).count()

    assert in_app_loop(stored) == 0
    # the same bodies without the character are accepted
    r = await core_client.post("/api/v1/regioes", json={"nome": "Zona Norte"}, headers=h)
    assert r.status_code == 201, r.text
