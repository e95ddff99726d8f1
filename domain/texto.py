"""Text rules shared by every resource: trimming, search keys, sort specifications."""

from __future__ import annotations

import re
import unicodedata

from domain.errors import DadosInvalidos

# Exactly what ``str.strip`` removes (more than Unicode's White_Space: U+001C..U+001F too);
# a unit test compares it with every code point's ``isspace``.
ESPACOS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A text that is not blank: it has a character ``str.strip`` keeps (a regular expression
# valid in Python and ECMA-262 alike, published in the OpenAPI document).
EXPRESSAO_PREENCHIDO = f"[^{ESPACOS}]"


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


def expressao_ordem(permitidos: tuple[str, ...]) -> str:
    """The pattern of a sort specification (``permitidos``, each once, optional ``+``/``-``):
    valid in Python and ECMA-262 alike, as the OpenAPI document publishes it."""
    campos = "|".join(re.escape(campo) for campo in permitidos)
    campo = f"[+-]?(?:{campos})"
    sem_repeticao = rf"(?!.*\b({campos})\b.*\b\1\b)"
    return f"^{sem_repeticao}(?:{campo}(?:,{campo})*)?$"


def mensagem_ordem(permitidos: tuple[str, ...]) -> str:
    return f"Use campos entre: {', '.join(permitidos)} (prefixo - para decrescente), cada um uma vez."


def parse_ordem(spec: str | None, permitidos: tuple[str, ...], padrao: str) -> list[tuple[str, int]]:
    """``"-preco,nome"`` as ``[("preco", -1), ("nome", 1)]``; only ``permitidos``, so a
    client can never sort on an unindexed or private field."""
    spec = spec or padrao
    # fullmatch: Python's ``$`` would also match before a final newline, ECMA's does not.
    if not re.fullmatch(expressao_ordem(permitidos), spec):
        raise DadosInvalidos({"sort": [mensagem_ordem(permitidos)]})
    return [(parte.lstrip("+-"), -1 if parte.startswith("-") else 1) for parte in spec.split(",")]
