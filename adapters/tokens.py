"""Customer bearer tokens: HS256 JWTs (PyJWT) with expiry, revocable through Redis.

A token carries the customer id (``sub``), ``exp``, ``iat`` and a random ``jti``.
Log-out (or refresh) puts the ``jti`` on a Redis deny-list until the token would have
expired anyway, so the list never grows beyond the live tokens. Deleting a customer or
changing their password revokes all their tokens at once: a per-customer mark ("nothing
issued up to this instant is valid"), kept as long as a token lives. A token is checked
against both with one round trip.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import jwt
import redis

from domain.seguranca import Identidade, NaoAutenticado

ALGORITHM = "HS256"
AUDIENCE = "ponte:cliente"
# Tokens this process has verified (``decodificar``), by their hash and the signing key's.
_VERIFICADOS: dict[tuple[bytes, bytes], dict] = {}
_VERIFICADOS_MAX = 8192


class JwtTokens:
    def __init__(self, secret: str, ttl_s: int, redis_client: redis.Redis, prefix: str):
        self._secret = secret
        self._secret_id = hashlib.sha256(f"{secret}:{ttl_s}".encode()).digest()
        self._ttl = ttl_s
        self._redis = redis_client
        self._prefix = f"{prefix}:auth:revogado:"
        self._prefix_cliente = f"{prefix}:auth:revogado_cliente:"
        self.chave_geracao = f"{prefix}:auth:chaves_geracao"

    def emitir(self, cliente_id: str) -> tuple[str, int]:
        now = time.time()  # iat with its fraction (a NumericDate may have one): see revogar_todos
        claims = {
            "sub": cliente_id,
            "aud": AUDIENCE,
            "iat": now,
            "exp": int(now) + self._ttl,
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), self._ttl

    def verificar(self, token: str) -> Identidade:
        claims = self.decodificar(token)
        return self.conferir(claims, self._redis.mget(self.chaves_revogacao(claims)))

    def decodificar(self, token: str) -> dict:
        """The token's claims if its signature, audience and lifetime hold (no Redis).

        A token already verified in this process is not verified again until it expires:
        its claims are a function of the token and the secret alone, and a shopper's reads
        come with the same token for its whole life (PyJWT's checks: ~60 us a read).
        Revocation is not part of this: ``conferir`` checks it every time."""
        chave = hashlib.sha256(token.encode()).digest()  # tokens themselves are not kept
        visto = _VERIFICADOS.get((self._secret_id, chave))
        if visto is not None and time.time() < visto["exp"]:
            return visto
        claims = self._verificar(token)
        if len(_VERIFICADOS) >= _VERIFICADOS_MAX:
            _VERIFICADOS.clear()
        _VERIFICADOS[(self._secret_id, chave)] = claims
        return claims

    def _verificar(self, token: str) -> dict:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "exp", "iat", "jti", "aud"]},
            )
        except jwt.PyJWTError:
            raise NaoAutenticado("Token inválido ou expirado.") from None
        # TOKEN_TTL_S is a maximum lifetime counted from iat: a token signed with a far exp
        # (an old build, a leaked signing path) must not outlive what Ponte would issue.
        if float(claims["exp"]) - float(claims["iat"]) > self._ttl + 1:
            raise NaoAutenticado("Token inválido ou expirado.")
        return claims

    def chaves_revogacao(self, claims: dict) -> list[str]:
        """The deny-list keys to read (one MGET) before the token may be honoured; split out
        so that the fast read path reads them in its own round trip."""
        return [self._prefix + claims["jti"], self._prefix_cliente + str(claims["sub"])]

    def conferir(self, claims: dict, valores: list) -> Identidade:
        """The identity, given the values of ``chaves_revogacao(claims)``."""
        revogado, todos_ate = valores
        if revogado is not None or (todos_ate is not None and float(claims["iat"]) <= float(todos_ate)):
            raise NaoAutenticado("Token revogado.")
        return Identidade("cliente", id=str(claims["sub"]), token_id=claims["jti"], token_exp=claims["exp"])

    def revogar(self, ident: Identidade) -> None:
        restante = max(1, int(ident.token_exp - time.time()) + 1)
        self._redis.set(self._prefix + ident.token_id, 1, ex=restante)

    def chave_revogada(self) -> None:
        # A new random value, not a counter: one set again after Redis lost its data
        # (``nova_geracao``) can never equal a value some process remembers.
        self._redis.set(self.chave_geracao, secrets.token_hex(8))

    def nova_geracao(self) -> None:
        """Start a key generation where there is none (first use, or Redis lost its data)."""
        self._redis.set(self.chave_geracao, secrets.token_hex(8), nx=True)

    def revogar_todos(self, cliente_id: str) -> None:
        # Tokens issued up to now; one issued right after (a log-in with the new password)
        # is valid: both times carry their fraction of a second.
        self._redis.set(self._prefix_cliente + cliente_id, repr(time.time()), ex=self._ttl + 1)
