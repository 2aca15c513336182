"""Token issue and verification shared by core-api (which issues) and pdf-service (which verifies).

Both services use Litestar's JWTAuth with the same secret, issuer, algorithm and token class, so a
token issued by core-api is accepted by pdf-service and nothing else is. HS256 is pinned: a token
signed with another algorithm, or `alg: none`, is rejected by PyJWT before any claim is read.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from shared.revocation import check_not_revoked, current_version
from shared.settings import BaseServiceSettings

ALGORITHM = "HS256"
Role = Literal["admin", "user"]
TokenType = Literal["access", "refresh"]

#: paths that never need a token (health, docs, metrics has its own Basic Auth)
PUBLIC_PATHS = [
    "^/api/v1/health",
    "^/api/v1/docs",
    "^/api/v1/pdf-service/docs",
    "^/api/v1/static",
    "^/metrics",
]


#: claims a token must carry to be accepted at all; a signed token without `typ` (or empresa, or role)
#: is refused rather than read with a default (before, a missing `typ` counted as an access token)
REQUIRED_CLAIMS = ["exp", "iat", "sub", "typ", "empresa_id", "role", "ver"]


@dataclasses.dataclass
class PlatformToken(Token):
    """A JWT with the claims every service needs: who, which empresa, which role, which kind.

    The defaults only exist because dataclass fields after defaulted ones need one; REQUIRED_CLAIMS
    makes PyJWT refuse a token that lacks any of them, so a default is never used for a real token.
    """

    empresa_id: str = ""
    role: str = ""
    typ: str = ""
    #: the user's token version at issue (shared.revocation): older than the current one = revoked
    ver: int = 0

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> PlatformToken:
        """Litestar's verification, done once per token string: a client sends the same token on
        every request, and its signature, issuer and claims cannot change. Time can: `exp` and `nbf`
        are checked again on every use."""
        key = (
            encoded_token,
            secret,
            algorithm,
            repr(audience),
            repr(issuer),
            repr(require_claims),
            repr((verify_exp, verify_nbf, strict_audience)),
        )
        token = _VERIFIED.get(key)
        if token is None:
            token = super().decode(
                encoded_token,
                secret,
                algorithm,
                audience=audience,
                issuer=issuer,
                require_claims=require_claims,
                verify_exp=verify_exp,
                verify_nbf=verify_nbf,
                strict_audience=strict_audience,
            )
            if len(_VERIFIED) >= _VERIFIED_MAX:
                _VERIFIED.pop(next(iter(_VERIFIED)))  # the oldest
            _VERIFIED[key] = token
            return token
        now = time.time()
        nbf = token.extras.get("nbf")
        if (verify_exp and token.exp.timestamp() <= now) or (verify_nbf and nbf is not None and nbf > now):
            _VERIFIED.pop(key, None)
            raise NotAuthorizedException("Invalid token")
        return token


#: verified tokens by (token, verification parameters); bounded, oldest evicted first
_VERIFIED: dict[tuple[str, ...], PlatformToken] = {}
_VERIFIED_MAX = 10_000


@dataclasses.dataclass(frozen=True)
class Principal:
    """The authenticated caller as services see it (pdf-service has no user table)."""

    user_id: str
    empresa_id: str
    role: Role
    token: str = dataclasses.field(default="", repr=False)
    #: the `ver` claim of the token (shared.revocation); streams re-check it
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(
    settings: BaseServiceSettings,
    *,
    user_id: str,
    empresa_id: str,
    role: Role,
    typ: TokenType,
    version: int = 0,
) -> tuple[str, int]:
    """Encode a token of the given type; returns it with its lifetime in seconds.

    `version` is the user's current token version (shared.revocation.current_version)."""
    ttl = settings.access_token_ttl_seconds if typ == "access" else settings.refresh_token_ttl_seconds
    now = datetime.now(UTC)
    token = PlatformToken(
        sub=user_id,
        exp=now + timedelta(seconds=ttl),
        iat=now,
        iss=settings.jwt_issuer,
        jti=uuid.uuid4().hex,
        empresa_id=empresa_id,
        role=role,
        typ=typ,
        ver=version,
    )
    return token.encode(settings.jwt_secret.get_secret_value(), ALGORITHM), ttl


def decode_token(settings: BaseServiceSettings, encoded: str, expected_type: TokenType) -> PlatformToken:
    """Verify signature, expiry, issuer and type; raises 401 otherwise."""
    token = PlatformToken.decode(
        encoded,
        settings.jwt_secret.get_secret_value(),
        ALGORITHM,
        issuer=[settings.jwt_issuer],
        require_claims=REQUIRED_CLAIMS,
    )
    check_token_shape(token, expected_type)
    return token


def check_token_shape(token: PlatformToken, expected_type: TokenType) -> None:
    if token.typ != expected_type:
        raise NotAuthorizedException(
            f"a {token.typ} token cannot be used here; send an {expected_type} token"
        )
    if token.role not in ("admin", "user") or not token.empresa_id:
        raise NotAuthorizedException("Invalid token")


def principal_from_token(token: PlatformToken, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    check_token_shape(token, "access")
    raw = connection.headers.get("authorization", "").partition(" ")[2]
    return Principal(
        user_id=token.sub,
        empresa_id=token.empresa_id,
        role=token.role,  # type: ignore[arg-type]
        token=raw,
        token_version=token.ver,
    )


async def verified_principal(
    token: PlatformToken, connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal:
    """The caller of a valid access token that has not been revoked (one Redis GET; 503 when the
    revocation store is unavailable: fail closed)."""
    principal = principal_from_token(token, connection)
    state = connection.app.state
    check_not_revoked(token.ver, await current_version(state.revocation_redis, state.settings, token.sub))
    return principal


def build_jwt_auth(
    settings: BaseServiceSettings,
    retrieve_user_handler: Callable[..., Any] | None = None,
    exclude: Sequence[str] = (),
) -> JWTAuth[Any, PlatformToken]:
    """Litestar JWTAuth configured identically in every service."""

    async def _stateless(token: PlatformToken, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
        return await verified_principal(token, connection)

    return JWTAuth[Any, PlatformToken](
        retrieve_user_handler=retrieve_user_handler or _stateless,
        token_secret=settings.jwt_secret.get_secret_value(),
        token_cls=PlatformToken,
        algorithm=ALGORITHM,
        accepted_issuers=[settings.jwt_issuer],
        require_claims=REQUIRED_CLAIMS,
        exclude=[*PUBLIC_PATHS, *exclude],
        description="Bearer access token from POST /api/v1/auth/login",
    )


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Route guard: only an empresa's admins pass."""
    user = connection.user
    if getattr(user, "role", None) != "admin":
        raise PermissionDeniedException("this action needs the admin role", extra={"requiredRole": "admin"})
