"""Routes of ``/produtos``: thin views over ``services.produtos``."""

from __future__ import annotations

from flask.views import MethodView

from domain.produtos import montar_filtro
from domain.seguranca import PUBLICO, staff
from services import produtos
from webapp.blueprint import Blueprint
from webapp.deps import contexto, paginar
from webapp.etag import com_etag, doc_escrita, doc_etag, doc_leitura, versao_esperada
from webapp.produtos.schemas import ProdutoPatchSchema, ProdutoQueryArgsSchema, ProdutoSchema
from webapp.security import acesso

blp = Blueprint("produtos", __name__, url_prefix="/produtos", description="Catálogo de produtos")

ESCRITA = staff("catalog:write")


@blp.route("")
class Produtos(MethodView):
    @acesso(PUBLICO)
    @blp.arguments(ProdutoQueryArgsSchema, location="query")
    @blp.response(200, ProdutoSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List visible products, filtered, sorted and paginated"""
        return paginar(pagination_parameters, produtos.listar, montar_filtro(texto=args.pop("q", None), **args))

    @acesso(ESCRITA)
    @blp.arguments(ProdutoSchema)
    @blp.response(201, ProdutoSchema)
    @doc_etag(blp, 201)
    def post(self, dados):
        """Create a product"""
        return com_etag(produtos.criar(contexto(), dados), 201)


@blp.route("/<produto_id>")
class ProdutoPorId(MethodView):
    @acesso(PUBLICO)
    @blp.response(200, ProdutoSchema)
    @doc_leitura(blp)
    def get(self, produto_id):
        """Get one product (ETag = its version)"""
        return com_etag(produtos.obter(contexto(), produto_id))

    @acesso(ESCRITA)
    @blp.arguments(ProdutoSchema)
    @blp.response(200, ProdutoSchema)
    @doc_escrita(blp)
    def put(self, dados, produto_id):
        """Replace a product (If-Match optional; stale -> 412)"""
        produto = produtos.alterar(contexto(), produto_id, dados, versao=versao_esperada(), substituir=True)
        return com_etag(produto)

    @acesso(ESCRITA)
    @blp.arguments(ProdutoPatchSchema(partial=True))
    @blp.response(200, ProdutoSchema)
    @doc_escrita(blp)
    def patch(self, dados, produto_id):
        """Change some fields of a product (If-Match optional; stale -> 412)"""
        return com_etag(produtos.alterar(contexto(), produto_id, dados, versao=versao_esperada()))

    @acesso(ESCRITA)
    @blp.response(204)
    @doc_escrita(blp, status=None)
    def delete(self, produto_id):
        """Hide a product from the catalogue (orders keep referring to it)"""
        produtos.remover(contexto(), produto_id, versao=versao_esperada())
