"""/auth: register, login, refresh, me, and the login rate limits (real Redis)."""

import uuid

import pytest
from core_api.domain.auth.schemas import REGISTER_ACCEPTED
from core_api.domain.empresas.models import Empresa
from core_api.domain.users.models import User
from core_api.server.app import create_app
from devstack.servers import free_port
from litestar.testing import AsyncTestClient

PASSWORD = "s3nha-muito-forte"


@pytest.fixture
async def strict_client(core_settings):
    """An app allowing 2 failed logins per account, so lock-out tests stay fast (Argon2 is slow)."""
    settings = core_settings.model_copy(update={"login_max_failures_per_account": 2})
    async with AsyncTestClient(create_app(settings)) as client:
        client.settings = settings
        yield client


def register_body(email: str | None = None, **empresa) -> dict:
    return {
        "empresa": {"nome": "Outdoor Teste", **empresa},
        "admin": {
            "nome": "Maria",
            "email": email or f"maria-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
        },
    }


async def register(client, email: str | None = None) -> dict:
    """Registers a new empresa; returns the request body (the answer says nothing about the account)."""
    body = register_body(email)
    r = await client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 202, r.text
    return body


async def login(client, email: str, password: str = PASSWORD):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_register_creates_empresa_and_admin_without_password(core_client, in_app_loop):
    body = register_body(cnpj="11.222.333/0001-81")
    body["admin"]["email"] = "  Maria.Nova@Example.COM "
    r = await core_client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "accepted", "detail": REGISTER_ACCEPTED}
    assert "argon2" not in r.text and "maria" not in r.text.lower()

    async def stored() -> tuple[User, Empresa]:
        user = await User.find_one({"email": "maria.nova@example.com"})
        return user, await Empresa.get(user.empresa_id)

    user, empresa = in_app_loop(stored)
    assert user.password_hash.startswith("$argon2id$") and user.role == "admin"
    assert empresa.nome == "Outdoor Teste" and empresa.cnpj == "11222333000181"
    # the account is usable: log in with it
    r = await login(core_client, "maria.nova@example.com")
    assert r.status_code == 200, r.text
    me = (await core_client.get("/api/v1/auth/me", headers=bearer(r.json()["accessToken"]))).json()
    assert me["empresa"]["id"] == str(empresa.id) and me["user"]["role"] == "admin"


async def test_register_does_not_tell_whether_the_email_exists(core_client, in_app_loop):
    """Issue 10: a taken e-mail gets the same status and body as a free one, and creates nothing:
    no second empresa, no second account, the existing account's password unchanged."""
    first = await register(core_client)
    email = first["admin"]["email"]

    async def counts() -> tuple[int, int]:
        return await Empresa.find_all().count(), await User.find({"email": email}).count()

    before = in_app_loop(counts)
    fresh = await core_client.post("/api/v1/auth/register", json=register_body())
    taken = register_body(email.upper())
    taken["admin"]["password"] = "Uma-Senha-Diferente-Bem-Longa"
    again = await core_client.post("/api/v1/auth/register", json=taken)
    assert again.status_code == fresh.status_code == 202
    assert again.content == fresh.content
    assert {k: v for k, v in again.headers.items() if k not in ("date", "x-request-id")} == {
        k: v for k, v in fresh.headers.items() if k not in ("date", "x-request-id")
    }
    empresas, accounts = in_app_loop(counts)
    assert (empresas, accounts) == (before[0] + 1, 1)  # only the fresh registration created one
    assert (await login(core_client, email)).status_code == 200  # the original password still works
    assert (await login(core_client, email, taken["admin"]["password"])).status_code == 401


async def test_register_bad_input_is_400_and_stores_nothing(core_client, in_app_loop):
    async def counts() -> tuple[int, int]:
        return await Empresa.find_all().count(), await User.find_all().count()

    before = in_app_loop(counts)
    bad = [
        {**register_body(), "extra": 1},
        {"empresa": {"nome": "X"}},
        register_body(cnpj="11.222.333/0001-00"),  # wrong check digits
        {**register_body(), "admin": {"nome": "A", "email": "not-an-email", "password": PASSWORD}},
        {**register_body(), "admin": {"nome": "A", "email": "a@b.com", "password": "short"}},
        {**register_body(), "admin": {"nome": "A", "email": {"$gt": ""}, "password": PASSWORD}},
        {"empresa": {"nome": ""}, "admin": register_body()["admin"]},
    ]
    for body in bad:
        r = await core_client.post("/api/v1/auth/register", json=body)
        assert r.status_code == 400, (body, r.text)
    assert in_app_loop(counts) == before


async def test_login_me_and_refresh(core_client):
    reg = await register(core_client)
    email = reg["admin"]["email"]
    r = await login(core_client, email.upper())  # e-mail is case-insensitive
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert set(tokens) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert tokens["tokenType"] == "Bearer" and tokens["expiresIn"] > 0

    me = await core_client.get("/api/v1/auth/me", headers=bearer(tokens["accessToken"]))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == email
    assert me.json()["user"]["role"] == "admin"

    # the refresh token is not an access token
    assert (
        await core_client.get("/api/v1/auth/me", headers=bearer(tokens["refreshToken"]))
    ).status_code == 401
    # and an access token is not a refresh token
    r = await core_client.post("/api/v1/auth/refresh", json={"refreshToken": tokens["accessToken"]})
    assert r.status_code == 401

    r = await core_client.post("/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert r.status_code == 200, r.text
    pair = r.json()
    assert (await core_client.get("/api/v1/auth/me", headers=bearer(pair["accessToken"]))).status_code == 200
    # a refresh token works once
    r = await core_client.post("/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert r.status_code == 401
    assert (
        await core_client.post("/api/v1/auth/refresh", json={"refreshToken": "garbage"})
    ).status_code == 401


async def test_me_without_token_is_401(core_client):
    assert (await core_client.get("/api/v1/auth/me")).status_code == 401


async def test_wrong_password_and_unknown_email_are_the_same_401(core_client):
    reg = await register(core_client)
    wrong = await login(core_client, reg["admin"]["email"], "not-the-password")
    unknown = await login(core_client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert "accessToken" not in wrong.text


async def test_login_of_deactivated_user_is_401(core_client, in_app_loop):
    reg = await register(core_client)

    async def deactivate() -> None:
        await User.get_pymongo_collection().update_one(
            {"email": reg["admin"]["email"]}, {"$set": {"active": False}}
        )

    in_app_loop(deactivate)
    assert (await login(core_client, reg["admin"]["email"])).status_code == 401


async def test_account_is_locked_after_failures_with_retry_after(strict_client):
    core_client, core_settings = strict_client, strict_client.settings
    reg = await register(core_client)
    email = reg["admin"]["email"]
    for _ in range(core_settings.login_max_failures_per_account):
        assert (await login(core_client, email, "wrong-password")).status_code == 401
    # locked now, even with the right password
    r = await login(core_client, email)
    assert r.status_code == 429
    retry = int(r.headers["retry-after"])
    assert 0 < retry <= core_settings.login_account_window_seconds
    # other accounts are not affected
    other = await register(core_client)
    assert (await login(core_client, other["admin"]["email"])).status_code == 200


async def test_success_resets_the_failure_count(strict_client):
    core_client, core_settings = strict_client, strict_client.settings
    reg = await register(core_client)
    email = reg["admin"]["email"]
    for _ in range(core_settings.login_max_failures_per_account - 1):
        assert (await login(core_client, email, "wrong-password")).status_code == 401
    assert (await login(core_client, email)).status_code == 200
    for _ in range(core_settings.login_max_failures_per_account - 1):
        assert (await login(core_client, email, "wrong-password")).status_code == 401
    assert (await login(core_client, email)).status_code == 200


async def test_address_limit_is_429_with_retry_after(core_settings):
    settings = core_settings.model_copy(update={"login_max_attempts_per_address": 3})
    async with AsyncTestClient(create_app(settings)) as client:
        for _ in range(3):
            assert (await login(client, "nobody@example.com", "x")).status_code == 401
        r = await login(client, "nobody@example.com", "x")
        assert r.status_code == 429
        assert 0 < int(r.headers["retry-after"]) <= settings.login_address_window_seconds
        assert "try again" in r.json()["detail"]


async def test_login_fails_open_when_redis_is_down(core_settings):
    settings = core_settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "login_max_failures_per_account": 1}
    )
    async with AsyncTestClient(create_app(settings)) as client:
        reg = await register(client)
        for _ in range(settings.login_max_failures_per_account + 1):
            assert (await login(client, reg["admin"]["email"], "wrong")).status_code == 401
        r = await login(client, reg["admin"]["email"])
        assert r.status_code == 200
        # core-api checks the token against the user's own copy of the token version meanwhile
        me = await client.get("/api/v1/auth/me", headers=bearer(r.json()["accessToken"]))
        assert me.status_code == 200


async def test_logout_revokes_access_and_refresh_tokens(core_client):
    reg = await register(core_client)
    tokens = (await login(core_client, reg["admin"]["email"])).json()
    headers = bearer(tokens["accessToken"])
    assert (await core_client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    assert (await core_client.post("/api/v1/auth/logout")).status_code == 401  # needs a token
    assert (await core_client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    r = await core_client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    r = await core_client.post("/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert r.status_code == 401
    # a new login works at once
    fresh = (await login(core_client, reg["admin"]["email"])).json()
    assert (await core_client.get("/api/v1/auth/me", headers=bearer(fresh["accessToken"]))).status_code == 200
