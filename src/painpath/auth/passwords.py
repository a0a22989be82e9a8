"""Password hashing.

Hashes are argon2id with m=64 MiB, t=3, p=4 (OWASP's minimum and ASVS 5 appendix C);
a stored hash with weaker parameters is replaced at the next successful sign-in.
The whole password is hashed: nothing is truncated (argon2 has no 72-byte limit).
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MEMORY_KIB = 65536
TIME_COST = 3
PARALLELISM = 4

_hasher = PasswordHash(
    (Argon2Hasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM),)
)
# A hash to verify against when the account does not exist, so timing does not tell.
_DUMMY = _hasher.hash("painpath-not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded)."""
    if stored is None:
        _hasher.verify(password, _DUMMY)
        return False, None
    return _hasher.verify_and_update(password, stored)
