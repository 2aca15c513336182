"""Token checks that hold for every protected route (the /auth routes are tested on their own)."""

import jwt
from shared.auth import issue_token


async def test_token_of_user_works_and_wrong_tenant_is_401(core_client, core_settings, make_tenant):
    a = await make_tenant("A")
    b = await make_tenant("B")
    # a correctly signed token whose empresa is not the user's empresa
    forged, _ = issue_token(
        core_settings, user_id=a.user_id, empresa_id=b.empresa_id, role="user", typ="access"
    )
    r = await core_client.get("/api/v1/placas", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


async def test_alg_none_and_tampered_tokens_are_401(core_client, core_settings, make_tenant):
    a = await make_tenant("A")
    good = a.user_headers["Authorization"].split()[1]
    claims = jwt.decode(good, options={"verify_signature": False})
    none_token = jwt.encode({**claims, "role": "admin"}, key=None, algorithm="none")
    header, payload, sig = good.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{sig}"
    for token in (none_token, tampered, "not-a-jwt"):
        r = await core_client.get("/api/v1/placas", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token


async def test_refresh_token_is_not_an_access_token(core_client, core_settings, make_tenant):
    a = await make_tenant("A")
    refresh, _ = issue_token(
        core_settings, user_id=a.user_id, empresa_id=a.empresa_id, role="user", typ="refresh"
    )
    r = await core_client.get("/api/v1/placas", headers={"Authorization": f"Bearer {refresh}"})
    assert r.status_code == 401


async def test_expired_token_is_401(core_client, core_settings, make_tenant):
    a = await make_tenant("A")
    # PlatformToken refuses to build an expired token, so re-sign a valid one's claims with a past exp
    good = a.user_headers["Authorization"].split()[1]
    secret = core_settings.jwt_secret.get_secret_value()
    claims = jwt.decode(good, secret, algorithms=["HS256"], issuer=core_settings.jwt_issuer)
    token = jwt.encode(
        {**claims, "iat": claims["iat"] - 3600, "exp": claims["iat"] - 60}, secret, algorithm="HS256"
    )
    r = await core_client.get("/api/v1/placas", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    # the same claims with a future exp are accepted, so the 401 above is about expiry
    fresh = jwt.encode(claims, secret, algorithm="HS256")
    r = await core_client.get("/api/v1/placas", headers={"Authorization": f"Bearer {fresh}"})
    assert r.status_code == 200


async def test_signed_token_without_typ_empresa_or_role_is_401(core_client, core_settings, make_tenant):
    a = await make_tenant("A")
    secret = core_settings.jwt_secret.get_secret_value()
    claims = jwt.decode(
        a.user_headers["Authorization"].split()[1],
        secret,
        algorithms=["HS256"],
        issuer=core_settings.jwt_issuer,
    )
    # the complete claims pass, so each 401 below is about the one missing claim
    r = await core_client.get(
        "/api/v1/placas", headers={"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}
    )
    assert r.status_code == 200
    for missing in ("typ", "empresa_id", "role"):
        token = jwt.encode({k: v for k, v in claims.items() if k != missing}, secret, algorithm="HS256")
        r = await core_client.get("/api/v1/placas", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, missing
    # the refresh route decodes tokens itself: a refresh token without typ is refused there too
    refresh, _ = issue_token(
        core_settings, user_id=a.user_id, empresa_id=a.empresa_id, role="user", typ="refresh"
    )
    refresh_claims = jwt.decode(refresh, secret, algorithms=["HS256"], issuer=core_settings.jwt_issuer)
    del refresh_claims["typ"]
    untyped = jwt.encode(refresh_claims, secret, algorithm="HS256")
    r = await core_client.post("/api/v1/auth/refresh", json={"refreshToken": untyped})
    assert r.status_code == 401
