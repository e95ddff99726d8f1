"""Routes of ``/pagamentos``: thin views over ``services.pagamentos``."""

from __future__ import annotations

from flask.views import MethodView

from domain.seguranca import staff
from services import pagamentos
from webapp.blueprint import Blueprint
from webapp.deps import contexto
from webapp.pagamentos.schemas import PagamentoSchema
from webapp.security import acesso

blp = Blueprint("pagamentos", __name__, url_prefix="/pagamentos", description="Pagamentos")


@blp.route("/<pagamento_id>/confirmacao")
class ConfirmacaoDePagamento(MethodView):
    @acesso(staff("pedidos:write"))
    @blp.response(200, PagamentoSchema)
    def post(self, pagamento_id):
        """Confirm a boleto/pix payment: the order becomes confirmado"""
        return pagamentos.confirmar(contexto(), pagamento_id)
