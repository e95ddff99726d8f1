"""Routes of ``/clientes``: thin views over ``services.clientes``."""

from __future__ import annotations

from flask.views import MethodView

from domain.clientes import montar_filtro
from services import clientes
from webapp.blueprint import Blueprint
from webapp.clientes.schemas import ClientePatchSchema, ClienteQueryArgsSchema, ClienteSchema
from webapp.deps import clientes_repo, hasher
from webapp.etag import com_etag, versao_esperada

blp = Blueprint("clientes", __name__, url_prefix="/clientes", description="Clientes da loja")


@blp.route("")
class Clientes(MethodView):
    @blp.arguments(ClienteQueryArgsSchema, location="query")
    @blp.response(200, ClienteSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List customers, filtered by e-mail or name"""
        itens, total = clientes.listar(
            clientes_repo(), montar_filtro(**args), pagination_parameters.first_item, pagination_parameters.page_size
        )
        pagination_parameters.item_count = total
        return itens

    @blp.arguments(ClienteSchema)
    @blp.response(201, ClienteSchema)
    @blp.alt_response(409, description="E-mail já cadastrado")
    def post(self, dados):
        """Register a customer"""
        return com_etag(clientes.criar(clientes_repo(), hasher(), dados), 201)


@blp.route("/<cliente_id>")
class ClientePorId(MethodView):
    @blp.response(200, ClienteSchema)
    def get(self, cliente_id):
        """Get one customer (ETag = its version)"""
        return com_etag(clientes.obter(clientes_repo(), cliente_id))

    @blp.arguments(ClienteSchema)
    @blp.response(200, ClienteSchema)
    def put(self, dados, cliente_id):
        """Replace a customer (without senha the password is kept)"""
        cliente = clientes.alterar(
            clientes_repo(), hasher(), cliente_id, dados, versao=versao_esperada(), substituir=True
        )
        return com_etag(cliente)

    @blp.arguments(ClientePatchSchema(partial=True))
    @blp.response(200, ClienteSchema)
    def patch(self, dados, cliente_id):
        """Change some fields of a customer (endereco is replaced whole)"""
        return com_etag(clientes.alterar(clientes_repo(), hasher(), cliente_id, dados, versao=versao_esperada()))

    @blp.response(204)
    def delete(self, cliente_id):
        """Delete a customer and their personal data"""
        clientes.remover(clientes_repo(), cliente_id, versao=versao_esperada())
