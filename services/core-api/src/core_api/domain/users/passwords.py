"""Password hashing with Argon2id (argon2-cffi), and the strength policy for new passwords (zxcvbn).

Hashing is deliberately slow, so it runs in a worker thread and never blocks the event loop.
Passwords are byte-exact: never stripped or normalised (schemas keep surrounding spaces).
"""

from __future__ import annotations

import re

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

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


#: zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable" for an online attacker and
#: costly offline against Argon2
MIN_PASSWORD_SCORE = 3
#: zxcvbn looks at this many characters (its cost grows with the length; 72 are plenty to judge)
STRENGTH_CHECK_LENGTH = 72
#: zxcvbn's lists are English (plus breached passwords of every language); these Portuguese words
#: and the product's own make passwords such as "mudar@123" or "Senha@2024" count as common
PORTUGUESE_WORDS = (
    "senha", "mudar", "trocar", "acesso", "entrar", "usuario", "admin", "administrador", "brasil",
    "outdoor", "empresa", "placa", "placas", "segura", "forte", "teste", "amor", "deus", "jesus",
    "flamengo", "corinthians", "palmeiras", "santos", "gremio", "cruzeiro", "saopaulo", "vasco",
    "bemvindo", "mudarsenha", "novasenha", "minhasenha", "abcd1234",
)  # fmt: skip


def password_weakness(password: str, *user_inputs: str | None) -> str | None:
    """Why a new password is refused (too common, in a breach list, a keyboard run, the user's own
    e-mail or name...), or None when it is strong enough. Offline: zxcvbn ships its lists."""
    inputs: list[str] = []  # the user's own words first: zxcvbn ranks earlier entries as likelier
    for given in filter(None, user_inputs):
        # the whole value, its e-mail local part, each word and the words run together ("JoaquimPereira")
        words = [w for w in re.split(r"[^0-9a-zà-ÿ]+", given.lower().split("@")[0]) if len(w) >= 3]
        inputs += [given, given.split("@")[0], *words, "".join(words)]
    inputs += PORTUGUESE_WORDS
    result = zxcvbn(password[:STRENGTH_CHECK_LENGTH], user_inputs=inputs)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result["feedback"]
    hints = " ".join(h for h in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if h)
    return (
        "this password is too easy to guess (a common or breached password, a pattern, or your own name "
        f"or e-mail); choose a longer, less predictable one. {hints}"
    ).strip()
