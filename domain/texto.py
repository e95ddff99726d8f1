"""Text rules shared by every resource: trimming, search keys, sort specifications."""

from __future__ import annotations

import unicodedata

from domain.errors import DadosInvalidos


def chave_busca(texto: str) -> str:
    """Accent- and case-insensitive key: 'Café Moído' and 'cafe moido' search alike."""
    decomposto = unicodedata.normalize("NFKD", texto)
    sem_acento = "".join(c for c in decomposto if not unicodedata.combining(c))
    return " ".join(sem_acento.casefold().split())


def texto_obrigatorio(valor: str, campo: str, maximo: int) -> str:
    """Strip ``valor``; refuse it blank or longer than ``maximo`` characters."""
    limpo = valor.strip()
    if not limpo:
        raise DadosInvalidos({campo: ["Não pode ficar em branco."]})
    if len(limpo) > maximo:
        raise DadosInvalidos({campo: [f"No máximo {maximo} caracteres."]})
    return limpo


def texto_opcional(valor: str | None, campo: str, maximo: int) -> str | None:
    """Strip ``valor``; blank becomes ``None``; refuse it longer than ``maximo``."""
    if valor is None:
        return None
    limpo = valor.strip()
    if len(limpo) > maximo:
        raise DadosInvalidos({campo: [f"No máximo {maximo} caracteres."]})
    return limpo or None


def parse_ordem(spec: str | None, permitidos: tuple[str, ...], padrao: str) -> list[tuple[str, int]]:
    """Parse ``"-preco,nome"`` into ``[("preco", -1), ("nome", 1)]``.

    Only fields in ``permitidos`` are accepted, each at most once, so a client can never
    sort on an unindexed or private field.
    """
    spec = spec or padrao
    ordem: list[tuple[str, int]] = []
    for bruto in spec.split(","):
        parte = bruto.strip()
        direcao = -1 if parte.startswith("-") else 1
        campo = parte.lstrip("+-")
        if campo not in permitidos or any(c == campo for c, _ in ordem):
            raise DadosInvalidos({"sort": [f"Use campos entre: {', '.join(permitidos)} (prefixo - para decrescente)."]})
        ordem.append((campo, direcao))
    return ordem
