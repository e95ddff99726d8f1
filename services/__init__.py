"""The service layer: one set of use cases for the API and the Celery tasks alike.

Services take repositories (and other ports) as arguments, apply the rules of
``domain`` and never know whether they were called by HTTP or by a task.
"""
