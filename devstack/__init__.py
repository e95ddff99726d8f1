"""Local stand-ins for the embedded default and the tests: never imported by the app.

``devstack.mongo_server`` runs mongoeco (a MongoDB wire-protocol server) and
``devstack.redis_server`` a throwaway or persistent redis-server; ``devstack.run`` is the
``make run`` launcher that starts what is not configured and then every Procfile process,
under supervisord (``devstack.supervise``: one that dies is restarted).
"""
