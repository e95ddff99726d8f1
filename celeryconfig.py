"""Celery configuration (``app.config_from_object("celeryconfig")``).

Broker and result store are the Redis of ``REDIS_URL``. Loading this module reads the
settings, so a production worker without them refuses to start.
"""

import settings

_cfg = settings.load()

broker_url = _cfg["REDIS_URL"]
broker_connection_retry_on_startup = True
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True
task_default_queue = "default"
# Results are not used to carry data between steps (services write to MongoDB), so
# they are not stored: nothing accumulates in Redis.
task_ignore_result = True
worker_hijack_root_logger = False
