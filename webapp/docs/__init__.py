"""Swagger UI (/docs), ReDoc (/redoc) and the CRM's events (/docs/eventos), served
entirely by the app so they work offline.

flask-smorest would load both from a CDN with inline scripts; Ponte renders its own
pages instead: assets come from the maintained ``drf-spectacular-sidecar`` data package
(located on disk, never imported for any Django purpose) and Swagger UI starts from an
external script, so the pages run under a strict Content-Security-Policy. The events
page is the ``asyncapi-viewer`` web component (its wheel ships the built viewer; no
inline script or style) reading the contract the app serves at /asyncapi.yaml.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Response, current_app, render_template

from adapters import contrato

ASSETS_URL = "/docs-assets"
_SIDECAR = files("drf_spectacular_sidecar") / "static" / "drf_spectacular_sidecar"
_VIEWER = files("asyncapi_viewer") / "static"

SWAGGER_UI_URL = f"{ASSETS_URL}/swagger-ui-dist/"
REDOC_URL = f"{ASSETS_URL}/redoc/bundles/redoc.standalone.js"
VIEWER_URL = "/docs-eventos-assets"
SPEC_URL = "/openapi.json"
ASYNCAPI_URL = "/asyncapi.yaml"

assets_bp = Blueprint("docs_assets", __name__, static_folder=str(_SIDECAR), static_url_path=ASSETS_URL)
viewer_bp = Blueprint("eventos_assets", __name__, static_folder=str(_VIEWER), static_url_path=VIEWER_URL)
bp = Blueprint("docs", __name__, template_folder="templates", static_folder="static", static_url_path="/docs-static")

OPENAPI_CONFIG = {
    "API_TITLE": "Ponte",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": SPEC_URL.lstrip("/"),
}

# Endpoints that are not flask-smorest views and are public by nature.
PUBLIC_ENDPOINTS = frozenset(
    {
        "docs.swagger_ui",
        "docs.redoc",
        "docs.eventos",
        "docs.asyncapi_json",
        "docs.asyncapi_yaml",
        "docs.static",
        "docs_assets.static",
        "eventos_assets.static",
        "api-docs.openapi_json",
    }
)


def init_spec(api) -> None:
    """Corrections to apispec's rendering of marshmallow fields (before any schema is)."""
    api.ma_plugin.converter.add_attribute_function(_null_is_only_null)


def _null_is_only_null(converter, field, ret: dict, **kwargs) -> dict:
    """apispec writes a nullable nested schema, in OpenAPI 3.0, as ``anyOf: [{type: object,
    nullable: true}, {$ref: ...}]``, whose first branch admits any object at all (an empty
    address, unknown keys). ``enum: [null]`` narrows that branch to null, as the field is."""
    for ramo in ret.get("anyOf", []):
        if ramo == {"type": "object", "nullable": True}:
            ramo["enum"] = [None]
    return {}


@bp.route("/docs")
def swagger_ui():
    return render_template(
        "ponte_swagger_ui.html", title=current_app.config["API_TITLE"], swagger_ui_url=SWAGGER_UI_URL, spec_url=SPEC_URL
    )


@bp.route("/redoc")
def redoc():
    title = current_app.config["API_TITLE"]
    return render_template("ponte_redoc.html", title=title, redoc_url=REDOC_URL, spec_url=SPEC_URL)


@bp.route("/docs/eventos")
def eventos():
    title = current_app.config["API_TITLE"]
    return render_template("ponte_eventos.html", title=title, viewer_url=VIEWER_URL, spec_url=ASYNCAPI_URL)


@bp.route("/asyncapi.json")
def asyncapi_json():
    return Response(contrato.documento_json(), mimetype="application/json")


@bp.route(ASYNCAPI_URL)
def asyncapi_yaml():
    # The file itself, comments included: it is what the Java team reads.
    return Response(contrato.CAMINHO.read_bytes(), mimetype="application/yaml")
