"""Routes of ``/pedidos``: thin views over ``services.pedidos`` and ``services.status_pedido``."""

from __future__ import annotations

from flask.views import MethodView

from domain.pedidos import PedidoFiltro
from domain.seguranca import SO_CLIENTE, cliente_ou_staff, staff
from services import envios, pedidos, status_pedido
from webapp.blueprint import Blueprint
from webapp.deps import contexto, paginar
from webapp.envios.schemas import EnvioSchema
from webapp.pagamentos.schemas import PagamentoSchema
from webapp.pedidos.schemas import (
    CheckoutSchema,
    IdempotencyHeaderSchema,
    ItensDoPedidoSchema,
    MudancaPedidoSchema,
    PedidoQueryArgsSchema,
    PedidoSchema,
    ResumoSchema,
)
from webapp.security import acesso, dono, identidade

blp = Blueprint("pedidos", __name__, url_prefix="/pedidos", description="Pedidos")

LEITURA = cliente_ou_staff("pedidos:read")


@blp.route("")
class Pedidos(MethodView):
    @acesso(LEITURA)
    @blp.arguments(PedidoQueryArgsSchema, location="query")
    @blp.response(200, PedidoSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List orders (a customer's own; staff: all, filterable by customer)"""
        filtro = PedidoFiltro(**{**args, "cliente_id": dono() or args.get("cliente_id")})
        return paginar(pagination_parameters, pedidos.listar, filtro)

    @acesso(SO_CLIENTE)
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(CheckoutSchema)
    @blp.response(201, PedidoSchema)
    @blp.alt_response(200, schema=PedidoSchema, description="Idempotency-Key repetida: o pedido original")
    @blp.alt_response(409, description="Estoque insuficiente, ou a mesma chave ainda em andamento")
    def post(self, cabecalhos, dados):
        """Check out the cart: reserve stock atomically and create the order (pendente)"""
        pedido, criado = pedidos.finalizar_carrinho(
            contexto(),
            identidade().id,
            dados["pagamento_metodo"],
            cabecalhos.get("idempotency_key"),
            dados,
            token=dados.get("cartao_token"),
        )
        return pedido, 201 if criado else 200


@blp.route("/resumo")
class Resumo(MethodView):
    @acesso(LEITURA)
    @blp.response(200, ResumoSchema)
    def get(self):
        """Orders and value per status (a customer: their own)"""
        return pedidos.resumo(contexto(), dono())


@blp.route("/<id:pedido_id>")
class PedidoPorId(MethodView):
    @acesso(LEITURA)
    @blp.response(200, PedidoSchema)
    def get(self, pedido_id):
        """One order (another customer's is 404)"""
        return pedidos.obter(contexto(), pedido_id, dono())

    @acesso(staff("pedidos:write"))
    @blp.arguments(MudancaPedidoSchema)
    @blp.response(200, PedidoSchema)
    def patch(self, dados, pedido_id):
        """Cancel an order: stock released, payment closed or refunded, shipment cancelled"""
        return status_pedido.cancelar(contexto(), pedido_id)


@blp.route("/<pedido_id>/envio")
class EnvioDoPedido(MethodView):
    @acesso(LEITURA)
    @blp.response(200, EnvioSchema)
    def get(self, pedido_id):
        """The shipment of one order"""
        return envios.do_pedido(contexto(), pedido_id, dono())


@blp.route("/<pedido_id>/itens")
class ItensDoPedido(MethodView):
    @acesso(LEITURA)
    @blp.response(200, ItensDoPedidoSchema)
    def get(self, pedido_id):
        """The items of one order, as bought"""
        return pedidos.obter(contexto(), pedido_id, dono())


@blp.route("/<pedido_id>/pagamento")
class PagamentoDoPedido(MethodView):
    @acesso(LEITURA)
    @blp.response(200, PagamentoSchema)
    def get(self, pedido_id):
        """The payment of one order"""
        return pedidos.pagamento_do_pedido(contexto(), pedido_id, dono())
