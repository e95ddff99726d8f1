"""The ceiling of the API benchmark: a bare flask-smorest app answering one JSON object.

Served by the same gunicorn configuration as Ponte (``gunicorn -c gunicorn.conf.py
bench.hello_app:app``), it measures what this machine, gunicorn and flask-smorest can
do at best; Ponte's figures are reported as a ratio of it, measured in the same run.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint

blp = Blueprint("hello", __name__, url_prefix="/hello")


class HelloSchema(ma.Schema):
    hello = ma.fields.String()


@blp.route("")
class Hello(MethodView):
    @blp.response(200, HelloSchema)
    def get(self):
        """Hello"""
        return {"hello": "world"}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(API_TITLE="hello", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    api.register_blueprint(blp)
    return app


app = create_app()
