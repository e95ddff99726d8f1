"""The Redis bridge: the Java CRM's events in, Celery tasks out (``python -m bridge``).

Its own process (a Procfile line and a docker-compose service). It does no database
work: each message becomes an envelope (event id, channel, payload, receive time, a
sequence number from one Redis counter) and one task on the ``sync`` queue.
"""
