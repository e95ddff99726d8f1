"""Celery configuration (``app.config_from_object("celeryconfig")``).

Broker is the Redis of ``REDIS_URL``. Loading this module reads the settings, so a
production worker without them refuses to start.

Delivery is at-least-once by design: tasks are acknowledged after they finish
(``task_acks_late``), a task whose worker process dies is handed back to the queue
(``task_reject_on_worker_lost``) and each worker process reserves one message at a
time. That is safe because every task is idempotent (sync writes are conditional on
the event's sequence number).
"""

import settings
from adapters.redis_client import celery_broker_ssl, celery_transport_options

_cfg = settings.load()

broker_url = _cfg["REDIS_URL"]
broker_connection_retry_on_startup = True
# rediss://: verify Redis's certificate (REDIS_TLS_CA_FILE); Kombu alone would not.
broker_use_ssl = celery_broker_ssl(_cfg)
# Redis redelivers a reserved-but-unacknowledged message after this long (a worker
# killed as a whole); retries always wait less than this (settings.py checks it).
broker_transport_options = {
    "visibility_timeout": _cfg["BROKER_VISIBILITY_TIMEOUT_S"],
    # Redis behind Sentinel (REDIS_URL=sentinel://...): Kombu follows the master.
    **celery_transport_options(_cfg["REDIS_URL"], _cfg["REDIS_SENTINEL_MASTER"]),
}
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

task_default_queue = "default"
task_routes = {
    "tasks.sync.*": {"queue": "sync"},
    "tasks.pagamentos.*": {"queue": "pagamentos"},
    "tasks.envios.*": {"queue": "envios"},
    # tasks.backups.* go to the default queue: a worker on the host (or volume) of
    # BACKUP_DIR must consume it.
}

# Exactly one beat process runs these (see README, Operations).
beat_schedule = {
    "pagamentos-vencidos-e-parados": {
        "task": "tasks.pagamentos.verificar",
        "schedule": float(_cfg["PAGAMENTO_VERIFICAR_S"]),
    },
}
if _cfg["BACKUP_DIR"]:  # unset: no backups (docs/operations.md, Back up MongoDB)
    beat_schedule["backup-mongodb"] = {
        "task": "tasks.backups.criar",
        "schedule": float(_cfg["BACKUP_INTERVAL_S"]),
        # A backup not started within one interval is superseded by the next one.
        "options": {"expires": float(_cfg["BACKUP_INTERVAL_S"])},
    }
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1

# Results are not used to carry data between steps (services write to MongoDB), so
# they are not stored: nothing accumulates in Redis.
task_ignore_result = True
worker_hijack_root_logger = False
