"""gunicorn settings for Ponte's API, all from the environment (see README)."""

import settings

_cfg = settings.load()

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
