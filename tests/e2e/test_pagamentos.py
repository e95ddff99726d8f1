"""The money path through real Celery workers: checkout, payment outcomes, compensation."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from adapters.despachante import celery_produtor
from tests.conftest import make_key
from tests.helpers import ENDERECO

pytestmark = pytest.mark.e2e

SENHA = "senha-de-teste-1"


class Loja:
    def __init__(self, pipeline, estoque=5):
        self.pipeline = pipeline
        app = pipeline.app
        self.staff = app.test_client()
        self.staff.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key(app, ('admin',), 'e2e')}"
        self.produto = self.staff.post("/produtos", json={"nome": "Caneca", "preco": 25, "estoque": estoque}).get_json()
        self.db = MongoClient(pipeline.mongo_uri)[pipeline.db_name]
        self.n = 0
        self.clientes = {}  # order id -> its customer's client

    def comprar(self, metodo: str, token: str | None = None, quantidade: int = 2) -> dict:
        self.n += 1
        c = self.pipeline.app.test_client()
        email = f"c{self.n}@example.com"
        assert (
            c.post("/clientes", json={"nome": "C", "email": email, "senha": SENHA, "endereco": ENDERECO}).status_code
            == 201
        )
        token_cliente = c.post("/auth/login", json={"email": email, "senha": SENHA}).get_json()["access_token"]
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token_cliente}"
        c.post("/carrinhos/me/itens", json={"produto_id": self.produto["id"], "quantidade": quantidade})
        body = {"pagamento_metodo": metodo} | ({"cartao_token": token} if token else {})
        resp = c.post("/pedidos", json=body)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        self.clientes[resp.get_json()["id"]] = c
        return resp.get_json()

    def visto_pelo_cliente(self, pedido_id: str) -> str:
        """The order's status as its customer reads it: the authenticated fast path, from the
        customer read cache once read (``adapters.read_cache``)."""
        return self.clientes[pedido_id].get(f"/pedidos/{pedido_id}").get_json()["status"]

    def status(self, pedido_id: str) -> tuple[str, str]:
        pedido = self.staff.get(f"/pedidos/{pedido_id}").get_json()
        pagamento = self.staff.get(f"/pedidos/{pedido_id}/pagamento").get_json()
        return pedido["status"], pagamento["status"]

    def esperar(self, pedido_id: str, esperado: tuple[str, str], timeout: float = 60):
        self.pipeline.wait(lambda: self.status(pedido_id) == esperado, timeout=timeout, what=f"{esperado}")

    def estoque(self) -> int:
        return self.staff.get(f"/produtos/{self.produto['id']}").get_json()["estoque"]


def test_card_approved_declined_and_transient_failures(pipeline):
    pipeline.start_worker(concurrency=2)
    loja = Loja(pipeline, estoque=10)
    aprovado = loja.comprar("cartao", "tok_aprova")
    recusado = loja.comprar("cartao", "tok_recusa")
    instavel = loja.comprar("cartao", "tok_falha_2")
    loja.esperar(aprovado["id"], ("confirmado", "processado"))
    loja.esperar(recusado["id"], ("cancelado", "falhou"))
    loja.esperar(instavel["id"], ("confirmado", "processado"))
    assert loja.estoque() == 10 - 2 - 2  # the declined order's units came back
    gateway = loja.db.gateway_simulado.find_one({"_id": f"pedido:{instavel['id']}"})
    assert gateway["tentativas"] == 3 and gateway["cobrancas"] == 1  # two failures, one charge
    # The payment task delivered again (redelivery, a replay): nothing is charged twice.
    pagamento = loja.staff.get(f"/pedidos/{aprovado['id']}/pagamento").get_json()
    celery_produtor(pipeline.redis_url).send_task(
        "tasks.pagamentos.processar", args=[pagamento["id"]], queue="pagamentos"
    )
    pipeline.wait(lambda: pipeline.redis.llen("pagamentos") == 0 and not pipeline.redis.hlen("unacked"))
    assert loja.db.gateway_simulado.find_one({"_id": f"pedido:{aprovado['id']}"})["cobrancas"] == 1
    assert loja.status(aprovado["id"]) == ("confirmado", "processado")


def test_timeouts_until_retries_run_out_release_the_stock(pipeline):
    pipeline.start_worker(concurrency=1, PAGAMENTO_MAX_RETRIES=2, PAGAMENTO_RETRY_MAX_S=1)
    loja = Loja(pipeline, estoque=3)
    pedido = loja.comprar("cartao", "tok_timeout", quantidade=3)
    assert loja.estoque() == 0
    loja.esperar(pedido["id"], ("cancelado", "falhou"))
    assert loja.estoque() == 3
    pagamento = loja.staff.get(f"/pedidos/{pedido['id']}/pagamento").get_json()
    assert pagamento["tentativas"] == 3 and "tentativas esgotadas" in pagamento["motivo"]


def test_boleto_confirmed_and_boleto_expired(pipeline):
    pipeline.start_worker(concurrency=2, PAGAMENTO_EXPIRA_S=1)
    loja = Loja(pipeline, estoque=4)
    pago = loja.comprar("boleto")
    vencido = loja.comprar("boleto")
    loja.esperar(pago["id"], ("pendente", "aguardando_confirmacao"))
    loja.esperar(vencido["id"], ("pendente", "aguardando_confirmacao"))
    assert [loja.visto_pelo_cliente(p["id"]) for p in (pago, vencido) for _ in range(2)] == ["pendente"] * 4  # cached
    pagamento = loja.staff.get(f"/pedidos/{pago['id']}/pagamento").get_json()
    assert loja.staff.post(f"/pagamentos/{pagamento['id']}/confirmacao").status_code == 200
    # A repeated callback answers as the first did, and changes nothing.
    assert loja.staff.post(f"/pagamentos/{pagamento['id']}/confirmacao").status_code == 200
    assert loja.status(pago["id"]) == ("confirmado", "processado")
    assert loja.visto_pelo_cliente(pago["id"]) == "confirmado"  # the API's write invalidated it
    assert loja.db.envios.count_documents({"pedido_id": pago["id"]}) <= 1
    # The beat job: the unpaid one expires (it is older than PAGAMENTO_EXPIRA_S by now).
    produtor = celery_produtor(pipeline.redis_url)

    def expirou():
        produtor.send_task("tasks.pagamentos.verificar", queue="pagamentos")
        return loja.status(vencido["id"]) == ("cancelado", "expirado")

    pipeline.wait(expirou, timeout=60, what="expired")
    assert loja.visto_pelo_cliente(vencido["id"]) == "cancelado"  # a worker's write invalidated it too
    assert loja.estoque() == 4 - 2  # the paid order keeps its units, the expired one released them


def test_whole_path_cart_checkout_payment_shipment_delivery_and_crm_notices(pipeline):
    import json

    pipeline.start_worker(concurrency=2)
    loja = Loja(pipeline, estoque=5)
    avisos = pipeline.redis.pubsub(ignore_subscribe_messages=True)
    avisos.subscribe("pedidos")
    pedido = loja.comprar("cartao", "tok_aprova")
    loja.esperar(pedido["id"], ("confirmado", "processado"))
    pipeline.wait(lambda: loja.staff.get(f"/pedidos/{pedido['id']}/envio").status_code == 200, what="shipment")
    envio = loja.staff.get(f"/pedidos/{pedido['id']}/envio").get_json()
    assert envio["status"] == "preparando" and envio["codigo_rastreio"].startswith("PT")
    assert loja.staff.patch(f"/envios/{envio['id']}", json={"status": "entregue"}).status_code == 409  # skips a step
    assert loja.staff.patch(f"/envios/{envio['id']}", json={"status": "enviado"}).status_code == 200
    assert loja.staff.get(f"/pedidos/{pedido['id']}").get_json()["status"] == "enviado"
    assert loja.staff.patch(f"/envios/{envio['id']}", json={"status": "entregue"}).status_code == 200
    assert loja.staff.get(f"/pedidos/{pedido['id']}").get_json()["status"] == "entregue"
    rastreio = loja.staff.get(f"/envios/{envio['id']}/rastreio").get_json()
    assert [h["status"] for h in rastreio["historico"]] == ["preparando", "enviado", "entregue"]
    assert loja.staff.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 409

    recebidos = []

    def todos():
        while (msg := avisos.get_message(timeout=0.1)) is not None:
            recebidos.append(json.loads(msg["data"]))
        return [(m["status_anterior"], m["status"]) for m in recebidos if m["pedido_id"] == pedido["id"]]

    pipeline.wait(lambda: len(todos()) == 3, what="three status notices on the pedidos channel")
    assert todos() == [("pendente", "confirmado"), ("confirmado", "enviado"), ("enviado", "entregue")]
    avisos.close()


def test_cancelling_a_paid_order_refunds_once_and_releases_stock(pipeline):
    pipeline.start_worker(concurrency=1)
    loja = Loja(pipeline, estoque=4)
    pedido = loja.comprar("cartao", "tok_aprova")
    loja.esperar(pedido["id"], ("confirmado", "processado"))
    assert loja.staff.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 200
    assert loja.status(pedido["id"]) == ("cancelado", "reembolsado")
    assert loja.estoque() == 4
    assert loja.db.gateway_simulado.find_one({"_id": f"pedido:{pedido['id']}"})["reembolsado"] is True
    assert loja.staff.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 409
