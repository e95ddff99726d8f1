"""Ponte's business rules as plain Python: no Flask, Celery or PyMongo here.

Everything that decides what a valid produto, cliente, price or query is lives in this
package so that the API and the Celery tasks apply the very same rules.
"""
