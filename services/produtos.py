"""Use cases of the catalogue: create, read, list, change and hide produtos."""

from __future__ import annotations

from domain import produtos as regras
from domain.errors import NaoEncontrado
from domain.ports import ProdutoRepository
from domain.produtos import Produto, ProdutoFiltro
from services.common import agora, falha_de_escrita

RECURSO = "Produto"


def criar(repo: ProdutoRepository, dados: dict, *, java_id: int | None = None) -> Produto:
    """Create a product from client data (``java_id`` is set only by the CRM sync)."""
    campos = regras.normalizar_campos(dados, completo=True)
    return repo.add(campos, agora(), java_id=java_id)


def obter(repo: ProdutoRepository, produto_id: str) -> Produto:
    produto = repo.get(produto_id)
    if produto is None:
        raise NaoEncontrado(f"{RECURSO} não encontrado.")
    return produto


def listar(repo: ProdutoRepository, filtro: ProdutoFiltro, offset: int, limit: int) -> tuple[list[Produto], int]:
    return repo.list(filtro, offset, limit)


def alterar(
    repo: ProdutoRepository,
    produto_id: str,
    dados: dict,
    *,
    versao: int | None = None,
    substituir: bool = False,
) -> Produto:
    """PUT (``substituir``) or PATCH a visible product, optionally only at ``versao``."""
    campos = regras.normalizar_campos(dados, completo=substituir)
    produto = repo.update(produto_id, campos, agora(), versao, substituir)
    if produto is None:
        raise falha_de_escrita(repo.get(produto_id) is not None, RECURSO)
    return produto


def remover(repo: ProdutoRepository, produto_id: str, *, versao: int | None = None) -> None:
    """Hide the product from the catalogue; its document stays for order history."""
    if not repo.hide(produto_id, agora(), versao):
        raise falha_de_escrita(repo.get(produto_id) is not None, RECURSO)
