"""Routes of ``/envios``: thin views over ``services.envios``."""

from __future__ import annotations

from flask.views import MethodView

from domain.seguranca import cliente_ou_staff, staff
from services import envios
from webapp.blueprint import Blueprint
from webapp.deps import contexto
from webapp.envios.schemas import EnvioSchema, MudancaEnvioSchema, RastreioSchema
from webapp.security import acesso, dono

blp = Blueprint("envios", __name__, url_prefix="/envios", description="Envios e rastreio")

LEITURA = cliente_ou_staff("pedidos:read")


@blp.route("/<envio_id>")
class EnvioPorId(MethodView):
    @acesso(LEITURA)
    @blp.response(200, EnvioSchema)
    def get(self, envio_id):
        """One shipment (another customer's is 404)"""
        return envios.obter(contexto(), envio_id, dono())

    @acesso(staff("pedidos:write"))
    @blp.arguments(MudancaEnvioSchema)
    @blp.response(200, EnvioSchema)
    def patch(self, dados, envio_id):
        """Move a shipment forward (preparando → enviado → entregue, or cancelado); invalid is 409"""
        return envios.mudar(contexto(), envio_id, dados["status"])


@blp.route("/<envio_id>/rastreio")
class Rastreio(MethodView):
    @acesso(LEITURA)
    @blp.response(200, RastreioSchema)
    def get(self, envio_id):
        """Tracking: the code and every status change with its time"""
        return envios.obter(contexto(), envio_id, dono())
