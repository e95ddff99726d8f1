"""The flask-smorest Blueprint every resource package uses, with Ponte's parser and ids
in their canonical spelling."""

from __future__ import annotations

import flask_smorest
from flask_smorest.pagination import PaginationMetadataSchema
from werkzeug.routing import BaseConverter

from webapp.fields import id_canonico
from webapp.jsonio import PonteParser

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100

# ``X-Pagination`` holds JSON text (``{"total": 3, ...}``). flask-smorest documents it with
# ``schema: object``, which in OpenAPI 3.0 means the ``simple`` style (``total,3,page,1``);
# ``content`` is how a header says its value is serialized as JSON.
PAGINATION_HEADER = "X_PAGINATION"
PAGINATION_HEADER_DOC = {
    "description": "Metadados da paginação, em JSON.",
    "content": {"application/json": {"schema": PaginationMetadataSchema}},
}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = PonteParser()
    DEFAULT_PAGINATION_PARAMETERS = {
        "page": 1,
        "page_size": PAGE_SIZE_DEFAULT,
        "max_page_size": PAGE_SIZE_MAX,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.url_value_preprocessor(_ids_canonicos)

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER


def _ids_canonicos(endpoint: str | None, values: dict | None) -> None:
    """``/produtos/ABC…`` is ``/produtos/abc…``: the view, its access rule and everything
    keyed on the id (cart lines, cache entries, audit records) see one spelling."""
    for nome, valor in (values or {}).items():
        if nome.endswith("_id"):
            values[nome] = id_canonico(valor)


class IdConverter(BaseConverter):
    """An id in a path (``<id:cliente_id>``) that is never a fixed sub-path of its collection
    (``me``, ``resumo``): ``/clientes/me`` then matches that route alone, so its OPTIONS and
    405 answers list its own methods, not those of ``/clientes/<cliente_id>`` too."""

    regex = r"(?!(?:me|resumo)\Z)[^/]+"
    PATTERN = r"^(?!(?:me|resumo)$)[^/]+$"  # the same, as the OpenAPI document states it
