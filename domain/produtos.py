"""Produto: the catalogue item, its invariants and how it may be queried."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.campos import validar
from domain.errors import DadosInvalidos
from domain.money import parse_preco
from domain.texto import parse_ordem, texto_obrigatorio, texto_opcional

NOME_MAX = 200
DESCRICAO_MAX = 5000
CATEGORIA_MAX = 100
ESTOQUE_MAXIMO = 1_000_000_000

CAMPOS_ORDENAVEIS = ("nome", "preco", "estoque", "criado_em", "atualizado_em")
ORDEM_PADRAO = "nome"
CAMPOS_OBRIGATORIOS = ("nome", "preco", "estoque")


@dataclass
class Produto:
    """A catalogue item as the service layer sees it."""

    id: str
    nome: str
    preco: Decimal
    estoque: int
    descricao: str | None = None
    categoria: str | None = None
    java_id: int | None = None
    criado_em: datetime | None = None
    atualizado_em: datetime | None = None
    versao: int = 1


@dataclass
class ProdutoFiltro:
    """What a listing may ask for; every field is optional."""

    texto: str | None = None
    categoria: str | None = None
    preco_min: Decimal | None = None
    preco_max: Decimal | None = None
    em_estoque: bool | None = None
    java_id: int | None = None
    ordem: list[tuple[str, int]] = field(default_factory=lambda: [(ORDEM_PADRAO, 1)])


def parse_estoque(valor: object) -> int:
    """Stock is a whole number of units between 0 and ``ESTOQUE_MAXIMO``."""
    if isinstance(valor, bool) or not isinstance(valor, int):
        raise DadosInvalidos({"estoque": ["Estoque deve ser um número inteiro."]})
    if not 0 <= valor <= ESTOQUE_MAXIMO:
        raise DadosInvalidos({"estoque": [f"Estoque deve estar entre 0 e {ESTOQUE_MAXIMO}."]})
    return valor


def normalizar_campos(dados: dict, *, completo: bool) -> dict:
    """Validate and normalize writable product fields (create/replace: ``completo``)."""
    return validar(dados, _REGRAS, obrigatorios=CAMPOS_OBRIGATORIOS, completo=completo)


_REGRAS = {
    "nome": lambda v: texto_obrigatorio(v, "nome", NOME_MAX),
    "descricao": lambda v: texto_opcional(v, "descricao", DESCRICAO_MAX),
    "categoria": lambda v: texto_opcional(v, "categoria", CATEGORIA_MAX),
    "preco": parse_preco,
    "estoque": parse_estoque,
}


def montar_filtro(
    *,
    texto: str | None = None,
    categoria: str | None = None,
    preco_min: Decimal | None = None,
    preco_max: Decimal | None = None,
    em_estoque: bool | None = None,
    java_id: int | None = None,
    sort: str | None = None,
) -> ProdutoFiltro:
    """Build a listing filter, refusing contradictory bounds and unknown sort fields."""
    if preco_min is not None and preco_max is not None and preco_min > preco_max:
        raise DadosInvalidos({"preco_min": ["Não pode ser maior que preco_max."]})
    return ProdutoFiltro(
        texto=(texto or "").strip() or None,
        categoria=(categoria or "").strip() or None,
        preco_min=preco_min,
        preco_max=preco_max,
        em_estoque=em_estoque,
        java_id=java_id,
        ordem=parse_ordem(sort, CAMPOS_ORDENAVEIS, ORDEM_PADRAO),
    )
