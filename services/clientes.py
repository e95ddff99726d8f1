"""Use cases for clientes: registration, profile changes, removal.

The password arrives in clear only here and leaves as an argon2id hash; no other
layer ever sees it.
"""

from __future__ import annotations

from domain import clientes as regras
from domain.clientes import Cliente, ClienteFiltro
from domain.errors import DadosInvalidos, NaoEncontrado
from domain.ports import TokenService, VersaoEsperada
from services.common import agora, falha_de_escrita
from services.contexto import Contexto

RECURSO = "Cliente"


def _hash_senha(ctx: Contexto, campos: dict) -> dict:
    if "senha" in campos:
        campos["senha_hash"] = ctx.hasher.hash(campos.pop("senha"))
        campos["senha_origem"] = regras.SENHA_API
    return campos


def criar(ctx: Contexto, dados: dict, *, java_id: int | None = None) -> Cliente:
    campos = regras.normalizar_campos(dados, completo=True)
    if "senha" not in campos:
        raise DadosInvalidos({"senha": ["Campo obrigatório."]})
    cliente = ctx.clientes.add(_hash_senha(ctx, campos), agora(), java_id=java_id, seq=ctx.proxima_seq())
    ctx.auditar("cliente", cliente.id, "criado", campos)
    return cliente


def obter(ctx: Contexto, cliente_id: str) -> Cliente:
    cliente = ctx.clientes.get(cliente_id)
    if cliente is None:
        raise NaoEncontrado(f"{RECURSO} não encontrado.")
    return cliente


def listar(ctx: Contexto, filtro: ClienteFiltro, offset: int, limit: int) -> tuple[list[Cliente], int]:
    return ctx.clientes.list(filtro, offset, limit)


def alterar(
    ctx: Contexto,
    cliente_id: str,
    dados: dict,
    *,
    tokens: TokenService,
    versao: VersaoEsperada | None = None,
    substituir: bool = False,
) -> Cliente:
    """PUT or PATCH; a replacement without ``senha`` keeps the current password. A new
    password ends every session of the customer (whoever held a token must log in)."""
    campos = _hash_senha(ctx, regras.normalizar_campos(dados, completo=substituir))
    cliente = ctx.clientes.update(cliente_id, campos, agora(), versao, substituir, ctx.proxima_seq())
    if cliente is None:
        raise falha_de_escrita(ctx.clientes.get(cliente_id) is not None, RECURSO, versao)
    if "senha_hash" in campos:
        tokens.revogar_todos(cliente.id)
    ctx.auditar("cliente", cliente.id, "alterado", campos)
    return cliente


def remover(ctx: Contexto, cliente_id: str, *, tokens: TokenService, versao: VersaoEsperada | None = None) -> None:
    """Erase the customer's personal data (orders keep their own address snapshot) and
    end their sessions: a deleted customer's token orders nothing."""
    if not ctx.clientes.delete(cliente_id, versao):
        raise falha_de_escrita(ctx.clientes.get(cliente_id) is not None, RECURSO, versao)
    tokens.revogar_todos(cliente_id)
    ctx.auditar("cliente", cliente_id, "removido")
