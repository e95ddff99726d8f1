"""Who may do what: identities, scopes, staff API keys, access policies.

Two kinds of caller: **staff** (operators and services, with API keys and scopes) and
**clientes** (customers, with short-lived tokens) who only ever see their own data.
Everything here is plain Python; the web layer only feeds it the identity it found.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import Conflito, DadosInvalidos, DomainError, NaoEncontrado

# Scopes a staff key may carry; ``admin`` implies every other one.
ESCOPOS = (
    "catalog:write",
    "clientes:read",
    "clientes:write",
    "pedidos:read",
    "pedidos:write",
    "audit:read",
    "eventos",
    "metrics:read",
    "admin",
)
ADMIN = "admin"

CHAVE_PREFIXO = "ponte_"
PREFIXO_TAMANHO = 8
CAMPOS_SECRETOS = frozenset({"senha", "senha_hash", "segredo", "chave", "hash", "token"})


class NaoAutenticado(DomainError):
    """No valid credential where one is required (HTTP 401)."""


class SemPermissao(DomainError):
    """A valid credential without the right to do this (HTTP 403)."""


class Bloqueado(DomainError):
    """Too many failed attempts; try again after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Identidade:
    tipo: str  # "anonimo", "staff" or "cliente"
    id: str | None = None
    nome: str | None = None
    escopos: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    token_exp: int | None = None

    @property
    def ator(self) -> str:
        """How the audit trail names this caller (never a secret)."""
        if self.tipo == "staff":
            return f"staff:{self.nome}"
        if self.tipo == "cliente":
            return f"cliente:{self.id}"
        return self.tipo

    def tem_escopo(self, escopo: str) -> bool:
        return self.tipo == "staff" and (escopo in self.escopos or ADMIN in self.escopos)


ANONIMO = Identidade("anonimo")


@dataclass
class ChaveApi:
    """A staff API key as stored: its public prefix and a hash, never the key itself."""

    id: str
    prefixo: str
    nome: str
    escopos: list[str]
    hash: str = field(repr=False, default="")
    criado_em: datetime | None = None
    revogada_em: datetime | None = None


def verificar_revogacao(ativas: list[ChaveApi], prefixo: str) -> None:
    """Refuse to revoke the last active ``admin`` key (``ativas``: the unrevoked keys): with
    none left, nobody could manage keys through the API, only from a shell with the CLI."""
    alvo = next((c for c in ativas if c.prefixo == prefixo), None)
    if alvo is None or ADMIN not in alvo.escopos:
        return
    if not any(ADMIN in c.escopos for c in ativas if c.prefixo != prefixo):
        raise Conflito("Esta é a última chave admin ativa: crie outra chave admin antes de revogá-la.")


def validar_escopos(escopos: list[str]) -> list[str]:
    desconhecidos = sorted(set(escopos) - set(ESCOPOS))
    if desconhecidos:
        raise DadosInvalidos({"escopos": [f"Escopos desconhecidos: {', '.join(desconhecidos)}."]})
    return sorted(set(escopos))


def gerar_chave() -> tuple[str, str]:
    """A new random key and its prefix: ``ponte_<prefix>_<43 random chars>`` (256 bits)."""
    prefixo = secrets.token_hex(PREFIXO_TAMANHO // 2)
    return f"{CHAVE_PREFIXO}{prefixo}_{secrets.token_urlsafe(32)}", prefixo


def prefixo_da_chave(chave: str) -> str | None:
    """The lookup prefix of a presented key, or None if it is not shaped like one of ours."""
    if not chave.startswith(CHAVE_PREFIXO):
        return None
    resto = chave[len(CHAVE_PREFIXO) :]
    prefixo, sep, segredo = resto.partition("_")
    if not sep or len(prefixo) != PREFIXO_TAMANHO or len(segredo) < 32:
        return None
    return prefixo


def hash_chave(chave: str) -> str:
    # A 256-bit random key needs no slow KDF: SHA-256 is already infeasible to invert,
    # and a fast hash keeps per-request authentication cheap.
    return hashlib.sha256(chave.encode()).hexdigest()


def chave_confere(chave: str, hash_guardado: str) -> bool:
    return hmac.compare_digest(hash_chave(chave), hash_guardado)


# -- access policies --------------------------------------------------------------


@dataclass(frozen=True)
class Politica:
    """An endpoint's access rule. ``descricao`` is what the README's table shows."""

    descricao: str
    escopo: str | None = None
    anonimo: bool = False  # anonymous callers allowed
    cliente: str | None = None  # None: refused; "proprio": only their own; "sim": allowed
    staff: bool = True  # staff (with ``escopo``) allowed
    dono_param: str | None = None  # path parameter holding the owner's cliente id

    def verificar(self, ident: Identidade, params: dict) -> None:
        """Raise NaoAutenticado (401), SemPermissao (403) or NaoEncontrado (404)."""
        if self.anonimo and ident.tipo == "anonimo":
            return
        if ident.tipo == "anonimo":
            raise NaoAutenticado("Credencial ausente ou inválida.")
        if ident.tipo == "staff":
            if not self.staff or (self.escopo and not ident.tem_escopo(self.escopo)):
                raise SemPermissao("Esta chave não tem permissão para esta operação.")
            return
        # A customer.
        if self.cliente is None:
            raise SemPermissao("Operação reservada à equipe da loja.")
        if self.cliente == "proprio" and self.dono_param and params.get(self.dono_param) != ident.id:
            # 404, not 403: a customer must not learn that someone else's record exists.
            raise NaoEncontrado("Recurso não encontrado.")


PUBLICO = Politica("público", anonimo=True, cliente="sim")


def staff(escopo: str) -> Politica:
    return Politica(f"staff ({escopo})", escopo=escopo)


def staff_ou_dono(escopo: str, dono_param: str) -> Politica:
    return Politica(f"o próprio cliente ou staff ({escopo})", escopo=escopo, cliente="proprio", dono_param=dono_param)


def anonimo_ou_staff(escopo: str) -> Politica:
    return Politica(f"anônimo (auto-cadastro) ou staff ({escopo})", escopo=escopo, anonimo=True)


SO_CLIENTE = Politica("cliente autenticado", cliente="sim", staff=False)


def cliente_ou_staff(escopo: str) -> Politica:
    """Customers (only their own data: the view filters by owner) or staff with ``escopo``."""
    return Politica(f"o próprio cliente (seus dados) ou staff ({escopo})", escopo=escopo, cliente="sim")
