"""Per-request correlation and metrics for the API.

Every request gets a request id (the caller's ``X-Request-ID`` when it is well formed,
otherwise a new one), returned in the response and bound to the logging context, so
log lines and every Celery task the request enqueues carry it (``adapters.logs``).
Each answer is counted and timed by route template (never the raw path: ids in URLs
would make one series per record).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from adapters import logs, metrics

logger = logging.getLogger(__name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g._log_token = logs.bind(request_id=g.request_id)
    g._started = time.perf_counter()


def _count(response):
    started = g.pop("_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        metrics.http_requests().labels(request.method, route, str(response.status_code)).inc()
        metrics.http_latency().labels(request.method, route).observe(time.perf_counter() - started)
    return response


def _end(_exc=None) -> None:
    token = g.pop("_log_token", None)
    if token is not None:
        logs.reset(token)


def init_app(app: Flask) -> None:
    # First of all before_request hooks: authentication and rate limiting log too.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_count)
    app.teardown_request(_end)
