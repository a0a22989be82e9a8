"""Password hashing with argon2id (pwdlib's recommended parameters: m=64 MiB, t=3)."""

from __future__ import annotations

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
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
