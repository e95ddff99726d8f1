"""Use cases of the catalogue: create, read, list, change and hide produtos."""

from __future__ import annotations

from domain import produtos as regras
from domain.errors import NaoEncontrado
from domain.ports import VersaoEsperada
from domain.produtos import Produto, ProdutoFiltro
from services.common import agora, falha_de_escrita
from services.contexto import Contexto

RECURSO = "Produto"


def criar(ctx: Contexto, dados: dict, *, java_id: int | None = None) -> Produto:
    """Create a product from client data (``java_id`` is set only by the CRM sync)."""
    campos = regras.normalizar_campos(dados, completo=True)
    produto = ctx.produtos.add(campos, agora(), java_id=java_id, seq=ctx.proxima_seq())
    ctx.auditar("produto", produto.id, "criado", campos)
    return produto


def obter(ctx: Contexto, produto_id: str) -> Produto:
    produto = ctx.produtos.get(produto_id)
    if produto is None:
        raise NaoEncontrado(f"{RECURSO} não encontrado.")
    return produto


def listar(ctx: Contexto, filtro: ProdutoFiltro, offset: int, limit: int) -> tuple[list[Produto], int]:
    return ctx.produtos.list(filtro, offset, limit)


def alterar(
    ctx: Contexto, produto_id: str, dados: dict, *, versao: VersaoEsperada | None = None, substituir: bool = False
) -> Produto:
    """PUT (``substituir``) or PATCH a visible product, optionally only at ``versao``."""
    campos = regras.normalizar_campos(dados, completo=substituir)
    produto = ctx.produtos.update(produto_id, campos, agora(), versao, substituir, ctx.proxima_seq())
    if produto is None:
        raise falha_de_escrita(ctx.produtos.get(produto_id) is not None, RECURSO, versao)
    ctx.auditar("produto", produto.id, "alterado", campos)
    return produto


def remover(ctx: Contexto, produto_id: str, *, versao: VersaoEsperada | None = None) -> None:
    """Hide the product from the catalogue; its document stays for order history."""
    if not ctx.produtos.ocultar(produto_id, agora(), versao, ctx.proxima_seq()):
        raise falha_de_escrita(ctx.produtos.get(produto_id) is not None, RECURSO, versao)
    ctx.auditar("produto", produto_id, "removido")
