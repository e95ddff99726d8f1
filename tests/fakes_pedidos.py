"""In-memory fakes of the money path's ports (``domain.ports``): carts, orders,
Idempotency-Key claims, stock, payments, the gateway and shipments.

Each keeps the guarantees its MongoDB adapter gets from a conditional write or a unique
index (a transition from one status only, one payment per order, stock never below
zero), since the services rely on exactly those; ``tests/integration`` runs the same
services on the real adapters.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.carrinhos import Carrinho, ItemCarrinho
from domain.errors import DadosInvalidos
from domain.pagamentos import AGUARDANDO, AGUARDANDO_CONFIRMACAO, APROVADO, PENDENTE, RECUSADO, GatewayTransitorio
from domain.pagamentos import RespostaGateway as Resposta
from domain.pedidos import CheckoutEmAndamento, PedidoJaExiste
from domain.ports import Reivindicacao

EPOCA = datetime(1970, 1, 1, tzinfo=UTC)
_IDS = (f"{n:024x}" for n in itertools.count(0xA000))


def novo_id() -> str:
    """An id shaped like an ObjectId's text, unique across every fake."""
    return next(_IDS)


class ChaveDuplicada(Exception):
    """What a unique index refuses (not a domain error: the services treat it as a failure)."""


class FakeCarrinhoRepository:
    def __init__(self, clientes=None):
        self.rows: dict[str, Carrinho] = {}
        self._clientes = clientes

    def get(self, cliente_id):
        return copy.deepcopy(self.rows.get(cliente_id)) or Carrinho(cliente_id)

    def para_checkout(self, cliente_id):
        cliente = self._clientes.get(cliente_id) if self._clientes is not None and cliente_id in self.rows else None
        endereco = None if cliente is None or cliente.endereco is None else vars(cliente.endereco)
        return self.get(cliente_id), endereco and {k: v for k, v in endereco.items() if v is not None}

    def definir_item(self, cliente_id, produto_id, quantidade, agora, maximo):
        carrinho = self.rows.setdefault(cliente_id, Carrinho(cliente_id))
        linha = next((i for i in carrinho.itens if i.produto_id == produto_id), None)
        if linha is None and len(carrinho.itens) >= maximo:
            raise DadosInvalidos({"itens": [f"No máximo {maximo} produtos diferentes por carrinho."]})
        if linha is None:
            carrinho.itens.append(ItemCarrinho(produto_id, quantidade))
        else:
            linha.quantidade = quantidade
        carrinho.atualizado_em = agora

    def remover_item(self, cliente_id, produto_id, agora):
        carrinho = self.rows.get(cliente_id)
        if carrinho is None or not carrinho.tem(produto_id):
            return False
        carrinho.itens = [i for i in carrinho.itens if i.produto_id != produto_id]
        carrinho.atualizado_em = agora
        return True

    def esvaziar(self, cliente_id, agora):
        if cliente_id in self.rows:
            self.rows[cliente_id] = Carrinho(cliente_id, [], agora)

    def list(self, offset, limit):
        cheios = sorted((c for c in self.rows.values() if c.itens), key=lambda c: c.atualizado_em, reverse=True)
        return [copy.deepcopy(c) for c in cheios[offset : offset + limit]], len(cheios)


class FakePedidoRepository:
    def __init__(self):
        self.rows = {}
        self.liberados: dict[str, set[str]] = {}  # order id -> products whose stock was given back
        self.cancelamento_pendente: set[str] = set()

    def add(self, pedido):
        if pedido.id and pedido.id in self.rows:
            raise PedidoJaExiste("Outra tentativa deste checkout guardou o pedido.")
        pedido = replace(copy.deepcopy(pedido), id=pedido.id or novo_id())
        self.rows[pedido.id] = pedido
        return copy.deepcopy(pedido)

    def get(self, pedido_id, cliente_id=None):
        pedido = self.rows.get(pedido_id)
        if pedido is None or (cliente_id is not None and pedido.cliente_id != cliente_id):
            return None
        return copy.deepcopy(pedido)

    def mudar_status(self, pedido_id, de, para, agora):
        pedido = self.rows.get(pedido_id)
        if pedido is None or pedido.status != de:
            return None
        pedido.status, pedido.atualizado_em, pedido.versao = para, agora, pedido.versao + 1
        pedido.historico.append({"status": para, "em": agora})
        if para == "cancelado":
            self.cancelamento_pendente.add(pedido_id)
        return copy.deepcopy(pedido)

    def tomar_liberacao(self, pedido_id, produto_id):
        feitos = self.liberados.setdefault(pedido_id, set())
        if produto_id in feitos:
            return False
        feitos.add(produto_id)
        return True

    def devolver_liberacao(self, pedido_id, produto_id):
        self.liberados.get(pedido_id, set()).discard(produto_id)

    def cancelamento_concluido(self, pedido_id):
        self.cancelamento_pendente.discard(pedido_id)

    def cancelamentos_pendentes(self, antes_de):
        return [
            copy.deepcopy(self.rows[i]) for i in self.cancelamento_pendente if self.rows[i].atualizado_em < antes_de
        ]

    def resumo(self, cliente_id):
        linhas: dict[str, dict] = {}
        for p in self.rows.values():
            if cliente_id is None or p.cliente_id == cliente_id:
                linha = linhas.setdefault(p.status, {"_id": p.status, "quantidade": 0, "valor": 0})
                linha["quantidade"] += 1
                linha["valor"] += p.total
        return [linhas[s] for s in sorted(linhas)]

    def list(self, filtro, offset, limit):
        achados = [
            p
            for p in sorted(self.rows.values(), key=lambda p: p.criado_em, reverse=True)
            if (not filtro.cliente_id or p.cliente_id == filtro.cliente_id)
            and (not filtro.status or p.status == filtro.status)
        ]
        return [copy.deepcopy(p) for p in achados[offset : offset + limit]], len(achados)


ARRENDAMENTO = timedelta(seconds=30)  # as adapters.idempotencia_repository: how long an attempt holds its key


class FakeIdempotenciaRepository:
    def __init__(self, pedidos: FakePedidoRepository):
        self.rows: dict[str, dict] = {}
        self._pedidos = pedidos

    def iniciar(self, escopo, chave, corpo_hash, agora):
        doc, dono = self.rows.get(f"{escopo}:{chave}"), uuid.uuid4().hex
        primeira = doc is None
        if primeira:
            doc = {"hash": corpo_hash, "estado": "em_andamento", "pedido_id": novo_id(), "criado_em": agora}
            self.rows[f"{escopo}:{chave}"] = doc
        elif doc["hash"] != corpo_hash:
            raise DadosInvalidos({"Idempotency-Key": ["Chave já usada com outro corpo de requisição."]})
        elif doc["estado"] == "concluido":
            return Reivindicacao(doc["pedido_id"], True, "")
        elif doc["expira_em"] > agora:
            raise CheckoutEmAndamento("Uma requisição com esta Idempotency-Key ainda está em andamento.")
        doc.update(dono=dono, expira_em=agora + ARRENDAMENTO)  # new, or taken over from a holder that stopped
        return Reivindicacao(doc["pedido_id"], False, dono, primeira=primeira)

    def _meu(self, escopo, chave, dono):
        doc = self.rows.get(f"{escopo}:{chave}")
        return doc if doc is not None and doc["estado"] == "em_andamento" and doc["dono"] == dono else None

    def liberar(self, escopo, chave, dono):
        if doc := self._meu(escopo, chave, dono):
            doc["expira_em"] = EPOCA

    def concluir(self, escopo, chave, pedido_id, agora, dono):
        if doc := self._meu(escopo, chave, dono):
            doc.update(estado="concluido", pedido_id=pedido_id, concluido_em=agora)

    def abandonar(self, escopo, chave, dono):
        if self._meu(escopo, chave, dono):
            del self.rows[f"{escopo}:{chave}"]

    def podar(self, antes_de):
        """As the adapter: an old key in progress whose order was stored is kept (a replay resumes it)."""
        velhas = [k for k, d in self.rows.items() if d["criado_em"] < antes_de]
        podadas = [
            k
            for k in velhas
            if self.rows[k]["estado"] == "concluido" or not self._pedidos.get(self.rows[k]["pedido_id"])
        ]
        for k in podadas:
            del self.rows[k]
        return len(podadas)


class FakeEstoque:
    """Stock kept on the products of a ``FakeProdutoRepository``, as MongoDB keeps it."""

    def __init__(self, produtos):
        self._produtos = produtos
        self.seq: dict[str, int] = {}  # the sync order a sale took its place in

    def reservar(self, produto_id, quantidade, seq):
        produto = self._produtos.rows.get(produto_id)
        if produto is None or produto_id in self._produtos.hidden or produto.estoque < quantidade:
            return False
        self._produtos.rows[produto_id] = replace(
            produto, estoque=produto.estoque - quantidade, versao=produto.versao + 1
        )
        if seq is not None:
            self.seq[produto_id] = max(seq, self.seq.get(produto_id, seq))
        return True

    def liberar(self, produto_id, quantidade):
        produto = self._produtos.rows.get(produto_id)
        if produto is not None:
            self._produtos.rows[produto_id] = replace(
                produto, estoque=produto.estoque + quantidade, versao=produto.versao + 1
            )


class _ComStatus:
    """Payments and shipments: one per order; each status change only from the given ones."""

    def __init__(self):
        self.rows = {}

    def get(self, entity_id, cliente_id=None):
        ent = self.rows.get(entity_id)
        return copy.deepcopy(ent) if ent and (cliente_id is None or ent.cliente_id == cliente_id) else None

    def por_pedido(self, pedido_id):
        return next((copy.deepcopy(e) for e in self.rows.values() if e.pedido_id == pedido_id), None)

    def _mudar(self, entity_id, de, para, agora, extra):
        ent = self.rows.get(entity_id)
        if ent is None or ent.status not in de:
            return None
        for campo, valor in {"status": para, "atualizado_em": agora, **extra}.items():
            setattr(ent, campo, valor)
        ent.historico.append({"status": para, "em": agora})
        return copy.deepcopy(ent)


class FakePagamentoRepository(_ComStatus):
    def __init__(self):
        super().__init__()
        self.reenfileirado_em: dict[str, datetime] = {}

    def add(self, pagamento):
        if self.por_pedido(pagamento.pedido_id) is not None:
            raise ChaveDuplicada("pagamentos.pedido_id")
        pagamento = replace(copy.deepcopy(pagamento), id=novo_id())
        self.rows[pagamento.id] = pagamento
        return copy.deepcopy(pagamento)

    def mudar(self, pagamento_id, de, para, agora, **extra):
        return self._mudar(pagamento_id, de, para, agora, extra)

    def contar_tentativa(self, pagamento_id):
        self.rows[pagamento_id].tentativas += 1

    def aguardando_desde(self, antes_de):
        return [copy.deepcopy(p) for p in self.rows.values() if p.status == AGUARDANDO and p.criado_em < antes_de]

    def parados(self, antes_de, agora):
        """Each at most once per period, as the adapter's conditional mark."""
        tomados = [
            p
            for p in self.rows.values()
            if p.status == PENDENTE and p.criado_em < antes_de and self.reenfileirado_em.get(p.id, EPOCA) < antes_de
        ]
        for p in tomados:
            self.reenfileirado_em[p.id] = agora
        return [copy.deepcopy(p) for p in tomados]


class FakeEnvioRepository(_ComStatus):
    def criar_para_pedido(self, envio):
        existente = self.por_pedido(envio.pedido_id)
        if existente is not None:
            return existente
        envio = replace(copy.deepcopy(envio), id=novo_id())
        self.rows[envio.id] = envio
        return copy.deepcopy(envio)

    def mudar(self, envio_id, de, para, agora):
        return self._mudar(envio_id, (de,), para, agora, {})


class FakeGateway:
    """The card tokens of ``adapters.gateway_simulado`` (``tok_recusa``, ``tok_falha_N``,
    ``tok_timeout``; anything else approves); boleto and pix wait. One charge per key."""

    def __init__(self):
        self.tentativas: dict[str, int] = {}
        self.cobrados: dict[str, object] = {}  # key -> amount charged
        self.reembolsados: set[str] = set()

    def cobrar(self, chave, valor, metodo, token):
        tentativa = self.tentativas[chave] = self.tentativas.get(chave, 0) + 1
        if metodo in ("boleto", "pix"):
            return Resposta(AGUARDANDO_CONFIRMACAO, referencia=f"{metodo}:{chave}")
        token = token or "tok_aprova"
        if token == "tok_timeout" or (token.startswith("tok_falha_") and tentativa <= int(token[10:])):
            raise GatewayTransitorio(f"gateway: tempo esgotado (tentativa {tentativa})")
        if token == "tok_recusa":
            return Resposta(RECUSADO, motivo="cartão recusado pelo emissor")
        self.cobrados.setdefault(chave, valor)
        return Resposta(APROVADO, referencia=f"fake:{chave}")

    def reembolsar(self, chave):
        if chave not in self.cobrados:
            return False
        self.reembolsados.add(chave)
        return True
