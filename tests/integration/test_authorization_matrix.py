"""Every route x every kind of caller gets exactly the status the access table promises.

The rows are checked against the app's own URL map: a route (or method) added without
a row here fails ``test_every_route_has_a_row``, and docs/security.md's access table must be
this very table (``test_readme_access_table_matches``).
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import make_key
from tests.helpers import ENDERECO, ROOT

CALLERS = ("anonimo", "cliente A", "cliente B", "staff sem escopo", "staff admin")

# (route as in the URL map, method): statuses for CALLERS, in order. Resource routes
# target customer A's record, an existing product or an existing key.
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    ("/health", "GET"): (200, 200, 200, 200, 200),
    ("/ready", "GET"): (200, 200, 200, 200, 200),
    ("/metrics", "GET"): (401, 403, 403, 403, 200),
    ("/openapi.json", "GET"): (200, 200, 200, 200, 200),
    ("/docs", "GET"): (200, 200, 200, 200, 200),
    ("/redoc", "GET"): (200, 200, 200, 200, 200),
    ("/docs-assets/<path:filename>", "GET"): (200, 200, 200, 200, 200),
    ("/docs-static/<path:filename>", "GET"): (200, 200, 200, 200, 200),
    ("/docs/eventos", "GET"): (200, 200, 200, 200, 200),
    ("/docs-eventos-assets/<path:filename>", "GET"): (200, 200, 200, 200, 200),
    ("/asyncapi.json", "GET"): (200, 200, 200, 200, 200),
    ("/asyncapi.yaml", "GET"): (200, 200, 200, 200, 200),
    ("/auth/login", "POST"): (200, 200, 200, 200, 200),
    ("/auth/refresh", "POST"): (401, 200, 200, 403, 403),
    ("/auth/logout", "POST"): (401, 204, 204, 403, 403),
    ("/produtos", "GET"): (200, 200, 200, 200, 200),
    ("/produtos", "POST"): (401, 403, 403, 403, 201),
    ("/produtos/<produto_id>", "GET"): (200, 200, 200, 200, 200),
    ("/produtos/<produto_id>", "PUT"): (401, 403, 403, 403, 200),
    ("/produtos/<produto_id>", "PATCH"): (401, 403, 403, 403, 200),
    ("/produtos/<produto_id>", "DELETE"): (401, 403, 403, 403, 204),
    ("/clientes", "GET"): (401, 403, 403, 403, 200),
    ("/clientes", "POST"): (201, 403, 403, 403, 201),
    ("/clientes/me", "GET"): (401, 200, 200, 403, 403),
    ("/clientes/me", "PATCH"): (401, 200, 200, 403, 403),
    ("/clientes/<cliente_id>", "GET"): (401, 200, 404, 403, 200),
    ("/clientes/<cliente_id>", "PUT"): (401, 200, 404, 403, 200),
    ("/clientes/<cliente_id>", "PATCH"): (401, 200, 404, 403, 200),
    ("/clientes/<cliente_id>", "DELETE"): (401, 403, 403, 403, 204),
    ("/chaves", "GET"): (401, 403, 403, 403, 200),
    ("/chaves", "POST"): (401, 403, 403, 403, 201),
    ("/chaves/<prefixo>", "DELETE"): (401, 403, 403, 403, 204),
    ("/auditoria", "GET"): (401, 403, 403, 403, 200),
    ("/eventos-rejeitados", "GET"): (401, 403, 403, 403, 200),
    ("/eventos-rejeitados/<rejeitado_id>", "GET"): (401, 403, 403, 403, 200),
    ("/eventos-rejeitados/<rejeitado_id>", "DELETE"): (401, 403, 403, 403, 204),
    ("/eventos-rejeitados/<rejeitado_id>/reenvio", "POST"): (401, 403, 403, 403, 202),
    ("/carrinhos", "GET"): (401, 403, 403, 403, 200),
    ("/carrinhos/<cliente_id>", "GET"): (401, 200, 404, 403, 200),
    ("/carrinhos/me", "GET"): (401, 200, 200, 403, 403),
    ("/carrinhos/me", "DELETE"): (401, 204, 204, 403, 403),
    ("/carrinhos/me/itens", "POST"): (401, 200, 200, 403, 403),
    ("/carrinhos/me/itens/<produto_id>", "PATCH"): (401, 200, 404, 403, 403),  # B's cart lacks it
    ("/carrinhos/me/itens/<produto_id>", "DELETE"): (401, 200, 404, 403, 403),  # B's cart lacks it
    ("/pedidos", "GET"): (401, 200, 200, 403, 200),
    ("/pedidos", "POST"): (401, 201, 422, 403, 403),  # B's cart is empty
    ("/pedidos/<pedido_id>", "GET"): (401, 200, 404, 403, 200),
    ("/pedidos/<pedido_id>/itens", "GET"): (401, 200, 404, 403, 200),
    ("/pedidos/<pedido_id>/pagamento", "GET"): (401, 200, 404, 403, 200),
    ("/pagamentos/<pagamento_id>/confirmacao", "POST"): (401, 403, 403, 403, 200),  # a pix awaiting confirmation
    ("/pedidos/<pedido_id>", "PATCH"): (401, 403, 403, 403, 200),  # cancel a confirmed order
    ("/pedidos/<pedido_id>/envio", "GET"): (401, 200, 404, 403, 200),
    ("/pedidos/resumo", "GET"): (401, 200, 200, 403, 200),
    ("/envios/<envio_id>", "GET"): (401, 200, 404, 403, 200),
    ("/envios/<envio_id>", "PATCH"): (401, 403, 403, 403, 200),
    ("/envios/<envio_id>/rastreio", "GET"): (401, 200, 404, 403, 200),
}

SENHA = "senha-de-teste-1"


@pytest.fixture
def app_config(app_config):
    # This module checks who may do what; limits have their own tests and would only
    # throttle the many log-ins the matrix performs.
    return {**app_config, "RATELIMIT_ENABLED": False}


class World:
    """Two customers with tokens, a staff key without scopes, an admin key, a product."""

    def __init__(self, app):
        self.app = app
        self.admin = make_key(app, ("admin",), "admin")
        self.noscope = make_key(app, (), "sem-escopo")
        anon = app.test_client()
        self.clientes = {}
        for nome in ("A", "B"):
            email = f"{nome.lower()}-{uuid.uuid4().hex[:8]}@example.com"
            resp = anon.post(
                "/clientes", json={"nome": f"Cliente {nome}", "email": email, "senha": SENHA, "endereco": ENDERECO}
            )
            assert resp.status_code == 201, resp.get_data(as_text=True)
            login = anon.post("/auth/login", json={"email": email, "senha": SENHA})
            assert login.status_code == 200
            self.clientes[nome] = {
                "id": resp.get_json()["id"],
                "email": email,
                "token": login.get_json()["access_token"],
            }
        admin = self.client("staff admin")
        self.produto = admin.post("/produtos", json={"nome": "P", "preco": 1, "estoque": 10}).get_json()["id"]
        cliente_a = self.client("cliente A")
        linha = {"produto_id": self.produto, "quantidade": 1}
        assert cliente_a.post("/carrinhos/me/itens", json=linha).status_code == 200
        pedido = cliente_a.post("/pedidos", json={"pagamento_metodo": "pix"})
        assert pedido.status_code == 201, pedido.get_data(as_text=True)
        self.pedido = pedido.get_json()["id"]
        self.pagamento = self._pix_aguardando()
        self.envio = self._segundo_pedido_confirmado_e_enviado()
        assert cliente_a.post("/carrinhos/me/itens", json=linha).status_code == 200
        self.chave = admin.post("/chaves", json={"nome": "alvo", "escopos": []}).get_json()["prefixo"]
        self.rejeitado = self._dead_letter()

    def _pix_aguardando(self) -> str:
        """Run the payment step in-process (no worker here): a pix then awaits confirmation."""
        from services import pagamentos
        from webapp.deps import build_contexto

        with self.app.app_context():
            ctx = build_contexto(self.app, "sistema:tests")
            pagamento = ctx.pagamentos.por_pedido(self.pedido)
            assert pagamentos.processar(ctx, pagamento.id, ultima_tentativa=True) == "aguardando_confirmacao"
            return pagamento.id

    def _segundo_pedido_confirmado_e_enviado(self) -> str:
        """Another order of A, paid and confirmed, with its shipment (run in-process)."""
        from services import envios, pagamentos
        from webapp.deps import build_contexto

        cliente_a = self.client("cliente A")
        linha = {"produto_id": self.produto, "quantidade": 1}
        assert cliente_a.post("/carrinhos/me/itens", json=linha).status_code == 200
        resp = cliente_a.post("/pedidos", json={"pagamento_metodo": "pix"})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        pedido = resp.get_json()["id"]
        with self.app.app_context():
            ctx = build_contexto(self.app, "sistema:tests")
            pagamento = ctx.pagamentos.por_pedido(pedido)
            pagamentos.processar(ctx, pagamento.id, ultima_tentativa=True)
            pagamentos.confirmar(ctx, pagamento.id)
            self.pedido_confirmado = pedido
            return envios.criar(ctx, pedido).id

    def _dead_letter(self) -> str:
        from domain.eventos import Envelope
        from services import sync
        from webapp.deps import build_contexto

        env = Envelope(uuid.uuid4().hex, "produtos", "{", "2026-01-01T00:00:00+00:00", 1)
        with self.app.app_context():
            return sync.rejeitar(build_contexto(self.app, "sistema:tests"), env, "JSON inválido", 1).id

    def client(self, caller: str):
        c = self.app.test_client()
        credential = {
            "anonimo": None,
            "cliente A": self.clientes["A"]["token"],
            "cliente B": self.clientes["B"]["token"],
            "staff sem escopo": self.noscope,
            "staff admin": self.admin,
        }[caller]
        if credential:
            c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {credential}"
        return c

    def url(self, rule: str, method: str = "GET") -> str:
        # The shipment and status-change routes act on A's confirmed (second) order.
        pedido = self.pedido_confirmado if "envio" in rule or method == "PATCH" else self.pedido
        return (
            rule.replace("<produto_id>", self.produto)
            .replace("<cliente_id>", self.clientes["A"]["id"])
            .replace("<prefixo>", self.chave)
            .replace("<rejeitado_id>", self.rejeitado)
            .replace("<envio_id>", self.envio)
            .replace("<pedido_id>", pedido)
            .replace("<pagamento_id>", self.pagamento)
            .replace("/docs-assets/<path:filename>", "/docs-assets/swagger-ui-dist/swagger-ui.css")
            .replace("/docs-static/<path:filename>", "/docs-static/swagger-init.js")
            .replace("/docs-eventos-assets/<path:filename>", "/docs-eventos-assets/asyncapi-viewer.js")
        )

    def body(self, rule: str, method: str):
        a = self.clientes["A"]
        bodies = {
            ("/auth/login", "POST"): {"email": a["email"], "senha": SENHA},
            ("/produtos", "POST"): {"nome": "Novo", "preco": 2, "estoque": 1},
            ("/produtos/<produto_id>", "PUT"): {"nome": "P2", "preco": 3, "estoque": 1},
            ("/produtos/<produto_id>", "PATCH"): {"estoque": 9},
            ("/clientes", "POST"): {"nome": "C", "email": f"c-{uuid.uuid4().hex[:8]}@example.com", "senha": SENHA},
            ("/clientes/me", "PATCH"): {"telefone": "+55 62 1234-5678"},
            ("/clientes/<cliente_id>", "PUT"): {"nome": "Cliente A", "email": a["email"]},
            ("/clientes/<cliente_id>", "PATCH"): {"telefone": "+55 62 1234-5678"},
            ("/chaves", "POST"): {"nome": "nova", "escopos": ["catalog:write"]},
            ("/carrinhos/me/itens", "POST"): {"produto_id": self.produto, "quantidade": 2},
            ("/carrinhos/me/itens/<produto_id>", "PATCH"): {"quantidade": 3},
            ("/pedidos", "POST"): {"pagamento_metodo": "boleto"},
            ("/pedidos/<pedido_id>", "PATCH"): {"status": "cancelado"},
            ("/envios/<envio_id>", "PATCH"): {"status": "enviado"},
        }
        return bodies.get((rule, method))


def _routes(app):
    skip = {"HEAD", "OPTIONS"}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - skip):
            # As published: <id:cliente_id> only keeps "me" and "resumo" out of the id segment.
            yield rule.rule.replace("<id:", "<"), method


def test_every_route_has_a_row(app):
    routes = set(_routes(app))
    missing = sorted(routes - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes)
    assert not missing, f"routes without an access rule in the matrix: {missing}"
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize(("rule", "method"), sorted(EXPECTED))
def test_access_matrix(app, rule, method):
    world = World(app)
    got = []
    for caller in CALLERS:
        # Each caller acts on an untouched world: deletes and logouts do not leak.
        world = World(app) if caller != CALLERS[0] and method in ("DELETE", "POST", "PUT", "PATCH") else world
        resp = world.client(caller).open(world.url(rule, method), method=method, json=world.body(rule, method))
        got.append(resp.status_code)
        if resp.status_code >= 400:
            assert resp.get_json()["code"] == resp.status_code
    assert tuple(got) == EXPECTED[(rule, method)], dict(zip(CALLERS, got, strict=True))


def test_docs_access_table_matches():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    block = text.split("<!-- access-table:start -->")[1].split("<!-- access-table:end -->")[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        route, method, statuses = cells[0], cells[1], cells[3:]
        rows[(route, method)] = tuple(int(re.match(r"\d+", s).group()) for s in statuses)
    assert rows == EXPECTED
