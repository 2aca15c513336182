"""Password hashing with Argon2id (argon2-cffi). Hashing is deliberately slow, so it runs in a
worker thread and never blocks the event loop."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 "low memory" defaults

#: verified against when the account does not exist, so a missing e-mail costs the same time
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-constant-time")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or unusable hash still spends the same time."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
