"""Customer log-in, refresh and log-out.

Log-in is equally slow whether the e-mail exists or not (a dummy argon2 verification
runs for unknown e-mails), and an account under attack is locked for a while after
``LOGIN_MAX_FAILURES`` failures, whatever the attacker's address.
"""

from __future__ import annotations

from functools import cache

from domain.clientes import normalizar_email
from domain.ports import LoginGuard, PasswordHasher, TokenService
from domain.seguranca import Identidade, NaoAutenticado
from services.contexto import Contexto


@cache
def _hash_ficticio(hasher: PasswordHasher) -> str:
    return hasher.hash("senha-ficticia-so-para-igualar-o-tempo")


def login(ctx: Contexto, tokens: TokenService, guard: LoginGuard, email: str, senha: str) -> tuple[str, int, str]:
    """Return (token, lifetime in seconds, cliente id); raise NaoAutenticado or Bloqueado."""
    chave = normalizar_email(email)
    guard.verificar(chave)
    cliente = ctx.clientes.por_email(chave)
    alvo = cliente.senha_hash if cliente and cliente.senha_hash else _hash_ficticio(ctx.hasher)
    confere = ctx.hasher.verify(alvo, senha)
    if cliente is None or not confere:
        guard.falhou(chave)
        ctx.auditar("auth", None, "login_falhou")
        raise NaoAutenticado("E-mail ou senha inválidos.")
    guard.sucesso(chave)
    token, ttl = tokens.emitir(cliente.id)
    ctx.auditar("auth", cliente.id, "login", ator=f"cliente:{cliente.id}")
    return token, ttl, cliente.id


def renovar(ctx: Contexto, tokens: TokenService, ident: Identidade) -> tuple[str, int]:
    """A fresh token for a still-valid one; the old one is revoked."""
    if ctx.clientes.get(ident.id) is None:
        raise NaoAutenticado("Cliente não existe mais.")
    token, ttl = tokens.emitir(ident.id)
    tokens.revogar(ident)
    ctx.auditar("auth", ident.id, "token_renovado")
    return token, ttl


def logout(ctx: Contexto, tokens: TokenService, ident: Identidade) -> None:
    tokens.revogar(ident)
    ctx.auditar("auth", ident.id, "logout")
