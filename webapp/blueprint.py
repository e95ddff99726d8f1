"""The flask-smorest Blueprint every resource package uses, with Ponte's parser and ids
in their canonical spelling."""

from __future__ import annotations

import flask_smorest

from webapp.fields import id_canonico
from webapp.jsonio import PonteParser

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100


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


def _ids_canonicos(endpoint: str | None, values: dict | None) -> None:
    """``/produtos/ABC…`` is ``/produtos/abc…``: the view, its access rule and everything
    keyed on the id (cart lines, cache entries, audit records) see one spelling."""
    for nome, valor in (values or {}).items():
        if nome.endswith("_id"):
            values[nome] = id_canonico(valor)
