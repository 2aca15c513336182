"""pdf-service's token checks (it verifies core-api's tokens without a user table)."""

import jwt


async def test_signed_token_without_typ_empresa_or_role_is_401(pdf_client, pdf_settings, token_for):
    secret = pdf_settings.jwt_secret.get_secret_value()
    good = token_for("65a000000000000000000aaa")["Authorization"].split()[1]
    claims = jwt.decode(good, secret, algorithms=["HS256"], issuer=pdf_settings.jwt_issuer)
    path = "/api/v1/documents/65a000000000000000000001"
    r = await pdf_client.get(
        path, headers={"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}
    )
    assert r.status_code == 404  # authenticated: the document just does not exist
    for missing in ("typ", "empresa_id", "role"):
        token = jwt.encode({k: v for k, v in claims.items() if k != missing}, secret, algorithm="HS256")
        r = await pdf_client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, missing
