"""gunicorn settings for Ponte's API, all from the environment (see README)."""

from gunicorn import glogging

import settings
from adapters import logs
from adapters.metrics_dir import prepare_multiprocess

_cfg = settings.load()
# Before any worker forks and before prometheus-client is imported: the workers write
# their metrics to files in this master's directory, and /metrics sums them.
prepare_multiprocess(_cfg["METRICS_DIR"], "web")

bind = f"{_cfg['API_HOST']}:{_cfg['API_PORT']}"
workers = _cfg["WEB_CONCURRENCY"]
threads = _cfg["WEB_THREADS"]
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = _cfg["LOG_LEVEL"].lower()
# gunicorn's own loggers go through Ponte's handler: JSON lines with the request id.
logs.ensure_log_dir(_cfg)
logconfig_dict = logs.dict_config(_cfg, "web")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'


class AccessLog(glogging.Logger):
    """gunicorn's logger, writing the access line per ``ACCESS_LOG`` (writes, all, errors, off).

    The line is ``access_log_format``'s, built from its six fields alone: gunicorn's own
    builds a dictionary of every header and environment variable for each request first
    (a third of a cached read's CPU went to the access line: docs/performance.md)."""

    def access(self, resp, req, environ, request_time):
        status = getattr(resp, "status_code", None)
        ms = request_time.seconds * 1000 + request_time.microseconds // 1000
        if not logs.access_wanted(
            _cfg["ACCESS_LOG"], status, ms, _cfg["ACCESS_LOG_SLOW_MS"], environ["REQUEST_METHOD"]
        ):
            return
        pedido = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        request_id = next((v for k, v in resp.headers if k.lower() == "x-request-id"), "-")
        self.access_log.info('%s "%s" %s %s %sms request_id=%s', environ.get("REMOTE_ADDR", "-"), pedido,
                             status, getattr(resp, "sent", None), ms, request_id)  # fmt: skip


logger_class = AccessLog
# The app connects lazily: nothing is opened in the master, so forked workers each
# build their own MongoClient and Redis pool on first use.
preload_app = False
# gunicorn 27's control socket defaults to one path per user: two instances on one
# machine (tests, benchmarks, blue/green) would fight over it. Off unless asked for.
control_socket_disable = True

# TLS for deployments without a terminating proxy (both files or neither: settings.py).
if _cfg["TLS_CERTFILE"]:
    certfile = _cfg["TLS_CERTFILE"]
    keyfile = _cfg["TLS_KEYFILE"]


def child_exit(_server, worker):
    # Live-process gauges of a dead worker must stop counting (counters are kept).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(_server, worker):
    # Close this worker's MongoClient and Redis pool on the way out (graceful stop).
    app = getattr(worker, "wsgi", None)
    resources = getattr(app, "extensions", {}).get("ponte") if app is not None else None
    if resources is not None:
        resources.close()


def post_fork(_server, _worker):
    # Before the worker starts its threads (see adapters.malloc).
    from adapters import malloc

    malloc.tune()
    logs.after_fork(_cfg, "web")
