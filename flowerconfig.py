"""Flower's configuration (``celery -A tasks flower --conf=flowerconfig.py``).

Flower executes this file as Python before it starts. Ponte uses that to:

- refuse to start without authentication (``FLOWER_BASIC_AUTH`` or Flower's OAuth
  settings): Flower can revoke and kill tasks, it must never be open;
- close the two endpoints Flower leaves unauthenticated even when auth is on
  (``/metrics`` and ``/healthcheck``): a scraper or probe sends the same basic auth;
- log through Ponte's JSON configuration like every other process.
"""

import os
import sys

from flower.views import monitor
from tornado import web

import settings
from adapters import logs

if not (os.environ.get("FLOWER_BASIC_AUTH") or os.environ.get("FLOWER_AUTH")):
    sys.exit("flower start-up refused: set FLOWER_BASIC_AUTH=user:password (or Flower's OAuth settings)")

for _handler in (monitor.Metrics, monitor.Healthcheck):
    if not getattr(_handler.get, "_ponte_auth", False):
        _handler.get = web.authenticated(_handler.get)
        _handler.get._ponte_auth = True

# Tornado would install its own console handler; Ponte's formatter is used instead.
logging = "none"  # the tornado option, not the module
logs.configure(settings.load(), "flower")
