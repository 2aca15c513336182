"""/users: admin-only user management inside the caller's empresa."""

import uuid

from core_api.domain.users.models import User


def new_user(**kw) -> dict:
    return {
        "nome": "Pedro",
        "email": f"pedro-{uuid.uuid4().hex[:8]}@example.com",
        "password": "senha-boa-123",
        **kw,
    }


async def test_admin_crud_users(core_client, make_tenant):
    t = await make_tenant()
    h = t.admin_headers
    r = await core_client.post("/api/v1/users", json=new_user(), headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["role"] == "user" and created["empresaId"] == t.empresa_id
    assert "password" not in r.text.lower()

    r = await core_client.get("/api/v1/users", headers=h, params={"sort": "email", "pageSize": 2})
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 3 and page["pageSize"] == 2 and len(page["items"]) == 2
    assert [u["email"] for u in page["items"]] == sorted(u["email"] for u in page["items"])
    assert "passwordHash" not in r.text

    r = await core_client.get("/api/v1/users", headers=h, params={"q": "pedro"})
    assert [u["id"] for u in r.json()["items"]] == [created["id"]]

    r = await core_client.get(f"/api/v1/users/{created['id']}", headers=h)
    assert r.status_code == 200 and r.json()["email"] == created["email"]

    r = await core_client.patch(
        f"/api/v1/users/{created['id']}", json={"role": "admin", "nome": "Pedro A."}, headers=h
    )
    assert r.status_code == 200 and r.json()["role"] == "admin" and r.json()["nome"] == "Pedro A."

    r = await core_client.delete(f"/api/v1/users/{created['id']}", headers=h)
    assert r.status_code == 204
    assert (await core_client.get(f"/api/v1/users/{created['id']}", headers=h)).status_code == 404


async def test_created_user_can_log_in_and_password_change_works(core_client, make_tenant):
    t = await make_tenant()
    body = new_user()
    created = (await core_client.post("/api/v1/users", json=body, headers=t.admin_headers)).json()
    r = await core_client.post(
        "/api/v1/auth/login", json={"email": body["email"], "password": body["password"]}
    )
    assert r.status_code == 200
    r = await core_client.patch(
        f"/api/v1/users/{created['id']}", json={"password": "outra-senha-456"}, headers=t.admin_headers
    )
    assert r.status_code == 200
    old = await core_client.post(
        "/api/v1/auth/login", json={"email": body["email"], "password": body["password"]}
    )
    new = await core_client.post(
        "/api/v1/auth/login", json={"email": body["email"], "password": "outra-senha-456"}
    )
    assert (old.status_code, new.status_code) == (401, 200)


async def test_plain_user_gets_403_on_every_users_route(core_client, make_tenant):
    t = await make_tenant()
    h = t.user_headers
    assert (await core_client.get("/api/v1/users", headers=h)).status_code == 403
    assert (await core_client.post("/api/v1/users", json=new_user(), headers=h)).status_code == 403
    assert (await core_client.get(f"/api/v1/users/{t.admin_id}", headers=h)).status_code == 403
    r = await core_client.patch(f"/api/v1/users/{t.user_id}", json={"role": "admin"}, headers=h)
    assert r.status_code == 403
    assert (await core_client.delete(f"/api/v1/users/{t.admin_id}", headers=h)).status_code == 403
    # nothing changed: the user is still a user, the admin still exists
    r = await core_client.get(f"/api/v1/users/{t.user_id}", headers=t.admin_headers)
    assert r.json()["role"] == "user"
    assert (await core_client.get(f"/api/v1/users/{t.admin_id}", headers=t.admin_headers)).status_code == 200


async def test_duplicate_email_is_409_naming_email(core_client, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    body = new_user()
    assert (await core_client.post("/api/v1/users", json=body, headers=a.admin_headers)).status_code == 201
    # e-mail is the login: unique across empresas too
    r = await core_client.post(
        "/api/v1/users", json={**body, "email": body["email"].upper()}, headers=b.admin_headers
    )
    assert r.status_code == 409 and r.json()["extra"]["conflicts"][0]["field"] == "email"
    r = await core_client.get("/api/v1/users", headers=b.admin_headers)
    assert r.json()["total"] == 2


async def test_last_admin_cannot_delete_demote_or_deactivate_themselves(core_client, make_tenant):
    t = await make_tenant()
    h = t.admin_headers
    for change in ({"role": "user"}, {"active": False}):
        r = await core_client.patch(f"/api/v1/users/{t.admin_id}", json=change, headers=h)
        assert r.status_code == 409, change
        assert "admin" in r.json()["detail"]
    assert (await core_client.delete(f"/api/v1/users/{t.admin_id}", headers=h)).status_code == 409
    me = (await core_client.get(f"/api/v1/users/{t.admin_id}", headers=h)).json()
    assert me["role"] == "admin" and me["active"] is True

    # with a second admin, stepping down is allowed
    r = await core_client.patch(f"/api/v1/users/{t.user_id}", json={"role": "admin"}, headers=h)
    assert r.status_code == 200
    r = await core_client.patch(f"/api/v1/users/{t.admin_id}", json={"role": "user"}, headers=h)
    assert r.status_code == 200 and r.json()["role"] == "user"
    # a role change revokes the user's tokens (issue 10): the demoted admin's token is refused at once
    assert (await core_client.get("/api/v1/users", headers=h)).status_code == 401


async def test_bad_user_input_is_400_and_stores_nothing(core_client, make_tenant, in_app_loop):
    t = await make_tenant()
    h = t.admin_headers

    async def count() -> int:
        return await User.find(
            {"empresa_id": User.model_fields["empresa_id"].annotation(t.empresa_id)}
        ).count()

    before = in_app_loop(count)
    for body in (
        new_user(role="root"),
        new_user(password="short"),
        new_user(email="nope"),
        new_user(empresaId="000000000000000000000000"),
        new_user(nome={"$ne": None}),
        {"email": "x@example.com"},
    ):
        r = await core_client.post("/api/v1/users", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
    for change in ({"role": None}, {"email": None}, {"active": "yes"}, {"passwordHash": "x"}):
        r = await core_client.patch(f"/api/v1/users/{t.user_id}", json=change, headers=h)
        assert r.status_code == 400, (change, r.text)
    assert in_app_loop(count) == before
    user = (await core_client.get(f"/api/v1/users/{t.user_id}", headers=h)).json()
    assert user["role"] == "user" and user["active"] is True
    assert (await core_client.get("/api/v1/users/not-an-id", headers=h)).status_code == 404
