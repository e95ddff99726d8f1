"""Swagger UI and ReDoc assets served by the app itself, so /docs works offline.

flask-smorest points the pages at a CDN by default; Ponte serves the files shipped in
the maintained ``drf-spectacular-sidecar`` data package instead (it is never imported
for any Django purpose, only located on disk).
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint

ASSETS_URL = "/docs-assets"
_STATIC = files("drf_spectacular_sidecar") / "static" / "drf_spectacular_sidecar"

SWAGGER_UI_URL = f"{ASSETS_URL}/swagger-ui-dist/"
REDOC_URL = f"{ASSETS_URL}/redoc/bundles/redoc.standalone.js"

bp = Blueprint("docs_assets", __name__, static_folder=str(_STATIC), static_url_path=ASSETS_URL)

OPENAPI_CONFIG = {
    "API_TITLE": "Ponte",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_URL,
    "OPENAPI_REDOC_PATH": "/redoc",
    "OPENAPI_REDOC_URL": REDOC_URL,
}
