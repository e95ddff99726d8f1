"""Search keys and sort specifications."""

import re
import sys

import pytest

from domain.errors import DadosInvalidos
from domain.texto import (
    ESPACOS,
    EXPRESSAO_PREENCHIDO,
    chave_busca,
    expressao_ordem,
    parse_ordem,
    texto_obrigatorio,
    texto_opcional,
)


def test_search_key_ignores_accents_case_and_spacing():
    assert chave_busca("  Café   MOÍDO ") == "cafe moido"
    assert chave_busca("Açúcar") == chave_busca("acucar")


def test_sort_spec_parsed_and_restricted():
    assert parse_ordem("-preco,nome", ("nome", "preco"), "nome") == [("preco", -1), ("nome", 1)]
    assert parse_ordem(None, ("nome",), "nome") == [("nome", 1)]
    for ruim in ("senha_hash", "preco,preco", "$where", "nome,"):
        with pytest.raises(DadosInvalidos):
            parse_ordem(ruim, ("nome", "preco"), "nome")


def test_sort_spec_is_exactly_its_published_pattern():
    """What the OpenAPI document's ``sort`` pattern admits is accepted, nothing else."""
    permitidos = ("nome", "preco", "criado_em")
    padrao = re.compile(expressao_ordem(permitidos))
    assert parse_ordem("+nome,-criado_em", permitidos, "nome") == [("nome", 1), ("criado_em", -1)]
    assert parse_ordem("", permitidos, "nome") == [("nome", 1)]
    for ruim in ("+-nome", "--preco", " nome", "nome ", "nome,,preco", "-", "nome,-nome", "criado_em,preco,criado_em"):
        assert not padrao.search(ruim), ruim
        with pytest.raises(DadosInvalidos):
            parse_ordem(ruim, permitidos, "nome")
    for bom in ("nome", "-preco,+nome", "criado_em,-nome,preco", ""):
        assert padrao.search(bom), bom
        parse_ordem(bom, permitidos, "nome")


def test_text_rules():
    assert texto_obrigatorio("  a ", "x", 5) == "a"
    with pytest.raises(DadosInvalidos):
        texto_obrigatorio("   ", "x", 5)
    with pytest.raises(DadosInvalidos):
        texto_obrigatorio("abcdef", "x", 5)
    assert texto_opcional("  ", "x", 5) is None
    assert texto_opcional(None, "x", 5) is None


def test_blanks_are_exactly_what_strip_removes():
    assert set(ESPACOS) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    assert re.search(EXPRESSAO_PREENCHIDO, " \u3000x\x1c") and not re.search(EXPRESSAO_PREENCHIDO, " \u3000\x1c")
