"""Routes of ``/eventos-rejeitados``: list, inspect, replay, discard."""

from __future__ import annotations

from flask.views import MethodView

from domain.rejeitados import RejeitadoFiltro
from domain.seguranca import staff
from services import sync
from webapp.blueprint import Blueprint
from webapp.deps import contexto, paginar
from webapp.eventos.schemas import EventoRejeitadoSchema, RejeitadoQueryArgsSchema
from webapp.security import acesso

blp = Blueprint(
    "eventos", __name__, url_prefix="/eventos-rejeitados", description="Eventos do CRM que não puderam ser aplicados"
)

EVENTOS = staff("eventos")


@blp.route("")
class EventosRejeitados(MethodView):
    @acesso(EVENTOS)
    @blp.arguments(RejeitadoQueryArgsSchema, location="query")
    @blp.response(200, EventoRejeitadoSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List dead letters, newest first (filter by estado, canal)"""
        return paginar(pagination_parameters, sync.listar_rejeitados, RejeitadoFiltro(**args))


@blp.route("/<rejeitado_id>")
class EventoRejeitadoPorId(MethodView):
    @acesso(EVENTOS)
    @blp.response(200, EventoRejeitadoSchema)
    def get(self, rejeitado_id):
        """Inspect one dead letter: its envelope, reason, attempts and history"""
        return sync.obter_rejeitado(contexto(), rejeitado_id)

    @acesso(EVENTOS)
    @blp.response(204)
    def delete(self, rejeitado_id):
        """Discard a pending dead letter (kept, marked descartado)"""
        sync.descartar(contexto(), rejeitado_id)


@blp.route("/<rejeitado_id>/reenvio")
class ReenvioDeEvento(MethodView):
    @acesso(EVENTOS)
    @blp.response(202, EventoRejeitadoSchema)
    def post(self, rejeitado_id):
        """Replay a pending dead letter: its envelope is enqueued again, same sequence"""
        return sync.reenviar(contexto(), rejeitado_id)
