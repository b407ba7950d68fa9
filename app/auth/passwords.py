"""Password and client-secret hashing (argon2 through pwdlib)."""

from __future__ import annotations

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()

# Compared against when the account does not exist, so that a missing user
# takes as long to refuse as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    if hashed is None:
        _hasher.verify(secret, _DUMMY_HASH)
        return False
    return bool(_hasher.verify(secret, hashed))
