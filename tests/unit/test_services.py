"""Service layer semantics against in-memory repositories."""

from decimal import Decimal

import pytest

from domain.errors import Conflito, DadosInvalidos, NaoEncontrado, VersaoDesatualizada
from services import clientes, produtos
from tests.fakes import FakeClienteRepository, FakeHasher, FakeProdutoRepository

NOVO = {"nome": "Caneca", "preco": Decimal("0.1"), "estoque": 3, "descricao": "azul"}


def test_create_then_patch_bumps_version_and_keeps_other_fields():
    repo = FakeProdutoRepository()
    p = produtos.criar(repo, NOVO)
    assert (p.versao, p.preco) == (1, Decimal("0.10"))
    p2 = produtos.alterar(repo, p.id, {"estoque": 5})
    assert (p2.versao, p2.estoque, p2.descricao) == (2, 5, "azul")


def test_replace_clears_optional_fields_not_sent():
    repo = FakeProdutoRepository()
    p = produtos.criar(repo, NOVO)
    p2 = produtos.alterar(repo, p.id, {"nome": "X", "preco": 1, "estoque": 1}, substituir=True)
    assert p2.descricao is None
    with pytest.raises(DadosInvalidos):
        produtos.alterar(repo, p.id, {"nome": "X"}, substituir=True)


def test_stale_version_is_412_and_missing_is_404():
    repo = FakeProdutoRepository()
    p = produtos.criar(repo, NOVO)
    produtos.alterar(repo, p.id, {"estoque": 5}, versao=1)
    with pytest.raises(VersaoDesatualizada):
        produtos.alterar(repo, p.id, {"estoque": 6}, versao=1)
    with pytest.raises(VersaoDesatualizada):
        produtos.remover(repo, p.id, versao=1)
    with pytest.raises(NaoEncontrado):
        produtos.alterar(repo, "nope", {"estoque": 6})


def test_removed_product_is_gone_for_reads_and_writes():
    repo = FakeProdutoRepository()
    p = produtos.criar(repo, NOVO)
    produtos.remover(repo, p.id)
    with pytest.raises(NaoEncontrado):
        produtos.obter(repo, p.id)
    with pytest.raises(NaoEncontrado):
        produtos.remover(repo, p.id)
    assert p.id in repo.rows  # hidden, not destroyed


def test_password_only_ever_reaches_the_repository_hashed():
    repo, hasher = FakeClienteRepository(), FakeHasher()
    c = clientes.criar(repo, hasher, {"nome": "Maria", "email": "m@example.com", "senha": "s3nh@Forte"})
    assert c.senha_hash == hasher.hash("s3nh@Forte")
    assert "s3nh@Forte" not in repr(repo.rows)
    c2 = clientes.alterar(repo, hasher, c.id, {"nome": "Maria S", "email": "m@example.com"}, substituir=True)
    assert c2.senha_hash == c.senha_hash  # replace without senha keeps the password
    c3 = clientes.alterar(repo, hasher, c.id, {"senha": "outraSenha9"})
    assert hasher.verify(c3.senha_hash, "outraSenha9")


def test_customer_needs_password_and_unique_email():
    repo, hasher = FakeClienteRepository(), FakeHasher()
    with pytest.raises(DadosInvalidos):
        clientes.criar(repo, hasher, {"nome": "A", "email": "a@example.com"})
    clientes.criar(repo, hasher, {"nome": "A", "email": "a@example.com", "senha": "12345678"})
    with pytest.raises(Conflito):
        clientes.criar(repo, hasher, {"nome": "B", "email": "A@EXAMPLE.com", "senha": "12345678"})


def test_delete_customer():
    repo, hasher = FakeClienteRepository(), FakeHasher()
    c = clientes.criar(repo, hasher, {"nome": "A", "email": "a@example.com", "senha": "12345678"})
    clientes.remover(repo, c.id)
    with pytest.raises(NaoEncontrado):
        clientes.obter(repo, c.id)
