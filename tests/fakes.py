"""In-memory fakes of the domain ports, for unit tests of the service layer only: the
catalogue's, the dead letters', the task queue's and the CRM notices' here; the money
path's in ``tests/fakes_pedidos.py``; ``fake_contexto`` wires them all."""

from __future__ import annotations

import copy
from dataclasses import replace

from domain.clientes import Cliente, Endereco
from domain.errors import Conflito
from domain.produtos import Produto
from domain.rejeitados import PENDENTE, REJEITADO, EventoRejeitado
from tests.fakes_pedidos import (
    FakeCarrinhoRepository,
    FakeEnvioRepository,
    FakeEstoque,
    FakeGateway,
    FakeIdempotenciaRepository,
    FakePagamentoRepository,
    FakePedidoRepository,
    novo_id,
)


class FakeRepository:
    entity: type
    optional: tuple[str, ...] = ()

    def __init__(self):
        self.rows: dict[str, object] = {}
        self.hidden: set[str] = set()

    def _check(self, campos, ignore_id=None):
        """Uniqueness rules a real store would enforce."""

    def add(self, campos, agora, java_id=None, seq=None):
        self._check(campos)
        ent = self.entity(id=novo_id(), criado_em=agora, atualizado_em=agora, java_id=java_id, **campos)
        self.rows[ent.id] = ent
        return copy.deepcopy(ent)

    def get(self, entity_id):
        if entity_id in self.hidden:
            return None
        ent = self.rows.get(entity_id)
        return copy.deepcopy(ent) if ent else None

    def list(self, filtro, offset, limit):
        visible = [e for i, e in self.rows.items() if i not in self.hidden]
        return visible[offset : offset + limit], len(visible)

    def por_java_id(self, java_id):
        return next((copy.deepcopy(e) for e in self.rows.values() if e.java_id == java_id), None)

    def update(self, entity_id, campos, agora, versao, substituir, seq=None):
        atual = self.get(entity_id)
        if atual is None or (versao is not None and atual.versao != versao):
            return None
        self._check(campos, ignore_id=entity_id)
        novos = dict(campos)
        if substituir:
            novos.update({k: None for k in self.optional if k not in campos})
        ent = replace(atual, **novos, atualizado_em=agora, versao=atual.versao + 1)
        self.rows[entity_id] = ent
        return copy.deepcopy(ent)


class FakeProdutoRepository(FakeRepository):
    entity = Produto
    optional = ("descricao", "categoria")

    def varios(self, produto_ids):
        return {pid: self.get(pid) for pid in produto_ids}

    def ocultar(self, produto_id, agora, versao, seq=None):
        atual = self.get(produto_id)
        if atual is None or (versao is not None and atual.versao != versao):
            return False
        self.hidden.add(produto_id)
        return True


class FakeClienteRepository(FakeRepository):
    entity = Cliente
    optional = ("endereco", "telefone")

    def por_email(self, email_norm):
        return next((copy.deepcopy(c) for c in self.rows.values() if c.email.casefold() == email_norm), None)

    def _check(self, campos, ignore_id=None):
        email = campos.get("email")
        if email and any(c.email.casefold() == email.casefold() for i, c in self.rows.items() if i != ignore_id):
            raise Conflito("E-mail já cadastrado.")
        if isinstance(campos.get("endereco"), dict):
            campos["endereco"] = Endereco(**campos["endereco"])

    def delete(self, cliente_id, versao):
        atual = self.get(cliente_id)
        if atual is None or (versao is not None and atual.versao != versao):
            return False
        del self.rows[cliente_id]
        return True


class FakeHasher:
    """Reversible on purpose so tests can see what was hashed; never used outside tests."""

    def hash(self, senha):
        return f"hashed:{senha[::-1]}"

    def verify(self, senha_hash, senha):
        return senha_hash == self.hash(senha)


class FakeChaveRepository:
    def __init__(self):
        self.rows = {}

    def add(self, chave):
        chave = replace(chave, id=f"{len(self.rows) + 1:024x}")
        self.rows[chave.prefixo] = chave
        return copy.deepcopy(chave)

    def por_prefixo(self, prefixo):
        return copy.deepcopy(self.rows.get(prefixo))

    def list(self):
        return [copy.deepcopy(c) for c in self.rows.values()]

    def revogar(self, prefixo, agora):
        chave = self.rows.get(prefixo)
        if chave is None or chave.revogada_em is not None:
            return False
        chave.revogada_em = agora
        return True


class FakeAuditoriaRepository:
    def __init__(self):
        self.registros = []

    def add(self, registro):
        self.registros.append(registro)

    def add_many(self, registros):
        self.registros.extend(registros)

    def list(self, filtro, offset, limit):
        return self.registros[offset : offset + limit], len(self.registros)


class FakeRejeitadoRepository:
    """Dead letters: one per event id; a state changes only from the given one."""

    def __init__(self):
        self.rows: dict[str, EventoRejeitado] = {}

    def add(self, envelope, motivo, tentativas, agora):
        r = next((r for r in self.rows.values() if r.event_id == envelope["event_id"]), None)
        if r is None:
            r = EventoRejeitado(
                novo_id(), envelope["event_id"], envelope.get("canal", "?"), envelope, motivo, vezes=0, em=agora
            )
            self.rows[r.id] = r
        r.envelope, r.motivo, r.tentativas, r.estado, r.atualizado_em = envelope, motivo, tentativas, PENDENTE, agora
        r.vezes += 1
        r.historico.append({"em": agora, "acao": REJEITADO, "motivo": motivo})
        return copy.deepcopy(r)

    def get(self, rejeitado_id):
        return copy.deepcopy(self.rows.get(rejeitado_id))

    def list(self, filtro, offset, limit):
        achados = [
            r for r in self.rows.values() if filtro.estado in (None, r.estado) and filtro.canal in (None, r.canal)
        ]
        return [copy.deepcopy(r) for r in achados[offset : offset + limit]], len(achados)

    def marcar(self, rejeitado_id, de, para, agora, ator):
        r = self.rows.get(rejeitado_id)
        if r is None or r.estado != de:
            return None
        r.estado, r.atualizado_em = para, agora
        r.historico.append({"em": agora, "acao": para, "por": ator})
        return copy.deepcopy(r)


class FakeDespachante:
    """The task queue: what was sent, in order, for the test to look at."""

    def __init__(self):
        self.eventos: list[dict] = []
        self.pagamentos: list[str] = []
        self.envios: list[str] = []

    def enviar(self, envelope, headers=None):
        self.eventos.append(envelope)

    def processar_pagamento(self, pagamento_id, headers=None):
        self.pagamentos.append(pagamento_id)

    def criar_envio(self, pedido_id):
        self.envios.append(pedido_id)


class FakePublicador:
    def __init__(self):
        self.mensagens: list[dict] = []

    def status_do_pedido(self, mensagem):
        self.mensagens.append(mensagem)


class SemFake:
    """A port no unit test uses: the CRM's conditional writes (``sync_produtos``,
    ``sync_clientes``) are MongoDB queries, tested on MongoDB (tests/integration/test_sync*)."""

    def __init__(self, nome):
        self._nome = nome

    def __getattr__(self, attr):
        raise AssertionError(f"ctx.{self._nome}.{attr}: no in-memory fake; test it in tests/integration")


def fake_contexto(ator="staff:tests"):
    """A service ``Contexto`` wired to in-memory fakes."""
    from services.contexto import Contexto

    produtos, pedidos, clientes = FakeProdutoRepository(), FakePedidoRepository(), FakeClienteRepository()
    return Contexto(
        produtos=produtos,
        clientes=clientes,
        chaves=FakeChaveRepository(),
        auditoria=FakeAuditoriaRepository(),
        hasher=FakeHasher(),
        sync_produtos=SemFake("sync_produtos"),
        sync_clientes=SemFake("sync_clientes"),
        rejeitados=FakeRejeitadoRepository(),
        carrinhos=FakeCarrinhoRepository(clientes),
        pedidos=pedidos,
        idempotencia=FakeIdempotenciaRepository(pedidos),
        estoque=FakeEstoque(produtos),
        pagamentos=FakePagamentoRepository(),
        gateway=FakeGateway(),
        envios=FakeEnvioRepository(),
        ator=ator,
        request_id="req-1",
        despachante=FakeDespachante(),
        publicador=FakePublicador(),
    )
