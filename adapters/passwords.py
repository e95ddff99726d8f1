"""Password hashing with argon2id (argon2-cffi): salted, memory-hard, constant-time check."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import simplejson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.clientes import normalizar_email
from domain.eventos import ler_json


class Argon2Hasher:
    """Implements ``domain.ports.PasswordHasher`` with argon2id.

    Defaults follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): strong against
    GPU cracking while keeping a web worker's memory small under concurrent log-ins.
    """

    def __init__(self, time_cost: int = 2, memory_kib: int = 19456, parallelism: int = 1, salt_key: bytes = b""):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._salt_key = salt_key

    def hash(self, senha: str) -> str:
        return self._hasher.hash(senha)

    def hash_for_account(self, senha: str, account: str) -> str:
        """The same password of the same account hashes the same, so a worker tells a CRM
        password change from a resend; the salt, derived from the account with
        ``SECRET_KEY``, is as unique and unknown as a random one."""
        if not self._salt_key:
            return self.hash(senha)
        salt = hmac.new(self._salt_key, b"ponte:crm-senha:" + account.encode(), hashlib.sha256).digest()[:16]
        return self._hasher.hash(senha, salt=salt)

    def verify(self, senha_hash: str, senha: str) -> bool:
        try:
            return self._hasher.verify(senha_hash, senha)
        except (VerificationError, InvalidHashError):
            return False


def com_senha_hash(payload: str, hash_senha: Callable[[str, str], str]) -> str:
    """The customer event with ``senha`` hashed into ``senha_hash``, as the bridge queues it:
    no clear password reaches the queue, the dead letters or a log. ``hash_senha(senha,
    account)``, account being the CRM id or, for id 0, the e-mail."""
    return com_senha_hash_dos_dados(payload, ler_json(payload), hash_senha)


def com_senha_hash_dos_dados(payload: str, dados: Any, hash_senha: Callable[[str, str], str]) -> str:
    """``com_senha_hash`` of a payload already read with ``ler_json`` (the bridge has it from
    ``triar``); ``dados`` loses its ``senha``."""
    senha = dados.pop("senha", None) if isinstance(dados, dict) else None
    if not isinstance(senha, str):
        return payload
    account = f"java:{dados['id']}" if dados.get("id") else f"email:{normalizar_email(str(dados.get('email', '')))}"
    dados["senha_hash"] = hash_senha(senha, account)
    return simplejson.dumps(dados, use_decimal=True, ensure_ascii=False)
