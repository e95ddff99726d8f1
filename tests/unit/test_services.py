"""Service layer semantics against in-memory repositories."""

from decimal import Decimal

import pytest

from domain.errors import Conflito, DadosInvalidos, NaoEncontrado, VersaoDesatualizada
from services import clientes, produtos
from tests.fakes import fake_contexto

NOVO = {"nome": "Caneca", "preco": Decimal("0.1"), "estoque": 3, "descricao": "azul"}


def test_create_then_patch_bumps_version_and_keeps_other_fields():
    ctx = fake_contexto()
    p = produtos.criar(ctx, NOVO)
    assert (p.versao, p.preco) == (1, Decimal("0.10"))
    p2 = produtos.alterar(ctx, p.id, {"estoque": 5})
    assert (p2.versao, p2.estoque, p2.descricao) == (2, 5, "azul")


def test_replace_clears_optional_fields_not_sent():
    ctx = fake_contexto()
    p = produtos.criar(ctx, NOVO)
    p2 = produtos.alterar(ctx, p.id, {"nome": "X", "preco": 1, "estoque": 1}, substituir=True)
    assert p2.descricao is None
    with pytest.raises(DadosInvalidos):
        produtos.alterar(ctx, p.id, {"nome": "X"}, substituir=True)


def test_stale_version_is_412_and_missing_is_404():
    ctx = fake_contexto()
    p = produtos.criar(ctx, NOVO)
    produtos.alterar(ctx, p.id, {"estoque": 5}, versao=1)
    with pytest.raises(VersaoDesatualizada):
        produtos.alterar(ctx, p.id, {"estoque": 6}, versao=1)
    with pytest.raises(VersaoDesatualizada):
        produtos.remover(ctx, p.id, versao=1)
    with pytest.raises(NaoEncontrado):
        produtos.alterar(ctx, "nope", {"estoque": 6})


def test_removed_product_is_gone_for_reads_and_writes():
    ctx = fake_contexto()
    p = produtos.criar(ctx, NOVO)
    produtos.remover(ctx, p.id)
    with pytest.raises(NaoEncontrado):
        produtos.obter(ctx, p.id)
    with pytest.raises(NaoEncontrado):
        produtos.remover(ctx, p.id)
    assert p.id in ctx.produtos.rows  # hidden, not destroyed


def test_every_write_is_audited_with_actor_request_and_field_names():
    ctx = fake_contexto(ator="staff:ops")
    p = produtos.criar(ctx, NOVO)
    produtos.alterar(ctx, p.id, {"estoque": 5})
    produtos.remover(ctx, p.id)
    c = clientes.criar(ctx, {"nome": "M", "email": "m@example.com", "senha": "s3nh@Forte"})
    trilha = [(r.ator, r.recurso, r.recurso_id, r.acao, r.campos, r.request_id) for r in ctx.auditoria.registros]
    assert trilha == [
        ("staff:ops", "produto", p.id, "criado", ["descricao", "estoque", "nome", "preco"], "req-1"),
        ("staff:ops", "produto", p.id, "alterado", ["estoque"], "req-1"),
        ("staff:ops", "produto", p.id, "removido", [], "req-1"),
        ("staff:ops", "cliente", c.id, "criado", ["email", "nome", "senha (alterada)"], "req-1"),
    ]
    assert "s3nh@Forte" not in repr(ctx.auditoria.registros)
    assert ctx.hasher.hash("s3nh@Forte") not in repr(ctx.auditoria.registros)


class _Sessoes:
    """In-memory TokenService half: which customers had all their sessions ended."""

    def __init__(self):
        self.encerradas: list[str] = []

    def revogar_todos(self, cliente_id: str) -> None:
        self.encerradas.append(cliente_id)


def test_password_only_ever_reaches_the_repository_hashed():
    ctx, sessoes = fake_contexto(), _Sessoes()
    c = clientes.criar(ctx, {"nome": "Maria", "email": "m@example.com", "senha": "s3nh@Forte"})
    assert c.senha_hash == ctx.hasher.hash("s3nh@Forte")
    assert "s3nh@Forte" not in repr(ctx.clientes.rows)
    c2 = clientes.alterar(ctx, c.id, {"nome": "Maria S", "email": "m@example.com"}, substituir=True, tokens=sessoes)
    assert c2.senha_hash == c.senha_hash  # replace without senha keeps the password
    assert sessoes.encerradas == []  # and the sessions
    c3 = clientes.alterar(ctx, c.id, {"senha": "outraSenha9"}, tokens=sessoes)
    assert ctx.hasher.verify(c3.senha_hash, "outraSenha9")
    assert sessoes.encerradas == [c.id]  # a new password ends every session


def test_customer_needs_password_and_unique_email():
    ctx = fake_contexto()
    with pytest.raises(DadosInvalidos):
        clientes.criar(ctx, {"nome": "A", "email": "a@example.com"})
    clientes.criar(ctx, {"nome": "A", "email": "a@example.com", "senha": "12345678"})
    with pytest.raises(Conflito):
        clientes.criar(ctx, {"nome": "B", "email": "A@EXAMPLE.com", "senha": "12345678"})


def test_delete_customer():
    ctx = fake_contexto()
    c = clientes.criar(ctx, {"nome": "A", "email": "a@example.com", "senha": "12345678"})
    sessoes = _Sessoes()
    clientes.remover(ctx, c.id, tokens=sessoes)
    with pytest.raises(NaoEncontrado):
        clientes.obter(ctx, c.id)
    assert sessoes.encerradas == [c.id]
