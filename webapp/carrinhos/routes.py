"""Routes of ``/carrinhos``: thin views over ``services.carrinhos``."""

from __future__ import annotations

from flask.views import MethodView

from domain.seguranca import SO_CLIENTE, staff, staff_ou_dono
from services import carrinhos
from webapp.blueprint import Blueprint
from webapp.carrinhos.schemas import CarrinhoSchema, NovoItemSchema, QuantidadeSchema
from webapp.deps import contexto, paginar
from webapp.security import acesso, identidade

blp = Blueprint("carrinhos", __name__, url_prefix="/carrinhos", description="Carrinhos de compra")


@blp.route("")
class Carrinhos(MethodView):
    @acesso(staff("pedidos:read"))
    @blp.response(200, CarrinhoSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """List non-empty carts (staff)"""
        return paginar(pagination_parameters, carrinhos.listar)


@blp.route("/me")
class MeuCarrinho(MethodView):
    @acesso(SO_CLIENTE)
    @blp.response(200, CarrinhoSchema)
    def get(self):
        """The logged-in customer's cart, priced now (created on demand)"""
        return carrinhos.ver(contexto(), identidade().id)

    @acesso(SO_CLIENTE)
    @blp.response(204)
    def delete(self):
        """Empty the cart"""
        carrinhos.esvaziar(contexto(), identidade().id)


@blp.route("/me/itens")
class ItensDoCarrinho(MethodView):
    @acesso(SO_CLIENTE)
    @blp.arguments(NovoItemSchema)
    @blp.response(200, CarrinhoSchema)
    def post(self, dados):
        """Put a product in the cart (or set its quantity if already there)"""
        return carrinhos.definir_item(contexto(), identidade().id, dados["produto_id"], dados["quantidade"])


@blp.route("/me/itens/<produto_id>")
class ItemDoCarrinho(MethodView):
    @acesso(SO_CLIENTE)
    @blp.arguments(QuantidadeSchema)
    @blp.response(200, CarrinhoSchema)
    @blp.alt_response(404, description="O produto não está no carrinho (para incluir: POST /carrinhos/me/itens)")
    def patch(self, dados, produto_id):
        """Change a line's quantity (the product must already be in the cart)"""
        return carrinhos.alterar_quantidade(contexto(), identidade().id, produto_id, dados["quantidade"])

    @acesso(SO_CLIENTE)
    @blp.response(200, CarrinhoSchema)
    def delete(self, produto_id):
        """Remove a product from the cart"""
        return carrinhos.remover_item(contexto(), identidade().id, produto_id)


@blp.route("/<id:cliente_id>")
class CarrinhoDeCliente(MethodView):
    @acesso(staff_ou_dono("pedidos:read", "cliente_id"))
    @blp.response(200, CarrinhoSchema)
    @blp.alt_response(404, description="Cliente desconhecido")
    def get(self, cliente_id):
        """One customer's cart (staff, or that customer); empty if they have none"""
        return carrinhos.ver_de_cliente(contexto(), cliente_id)
