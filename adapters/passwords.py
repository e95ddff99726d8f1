"""Password hashing with argon2id (argon2-cffi): salted, memory-hard, constant-time check."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """Implements ``domain.ports.PasswordHasher`` with argon2-cffi's RFC 9106 defaults."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()

    def hash(self, senha: str) -> str:
        return self._hasher.hash(senha)

    def verify(self, senha_hash: str, senha: str) -> bool:
        try:
            return self._hasher.verify(senha_hash, senha)
        except (VerificationError, InvalidHashError):
            return False
