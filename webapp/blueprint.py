"""The flask-smorest Blueprint every resource package uses, with Ponte's parser."""

from __future__ import annotations

import flask_smorest

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
