"""One correction to mongoeco, applied by ``devstack.mongo_server`` before it serves.

mongoeco (4.11) checks a single inserted document's ``_id`` against *every* stored
document, both engines, on top of its exact lookup by storage key: a wire ``insert`` of
one document into a collection of N costs N comparisons (in memory ~3.5 ms per 1,000
documents; SQLite decodes every row, ~17 ms per 1,000). Orders, payments, audit entries
and idempotency keys are inserted one at a time into collections that only grow, so a
checkout slowed with every order ever taken. MongoDB answers the same check from its
unique ``_id`` index.

The scan only matters for numeric ids (``1``, ``1.0`` and ``Int64(1)`` are one key to
MongoDB but three storage keys here), and mongoeco scans those anyway (its
``id_contains_numeric_value`` branch, kept as it is). For ObjectIds and strings, the ids
Ponte writes, the storage-key lookup is already exact: the patch passes
``scan_payload_id=False`` and nothing else changes. docs/mongoeco.md has the figures.
"""

from __future__ import annotations

import functools
import inspect
import logging

logger = logging.getLogger("devstack.mongo")

# The engines' unique-key checks that take ``scan_payload_id`` (one per engine).
TARGETS = (
    ("mongoeco.engines.memory", "MemoryEngine", "_ensure_unique_indexes"),
    ("mongoeco.engines.sqlite", "SQLiteEngine", "_validate_document_against_unique_indexes"),
)


def _sem_varredura(metodo):
    @functools.wraps(metodo)
    def verificar(self, *args, **kwargs):
        kwargs["scan_payload_id"] = False
        return metodo(self, *args, **kwargs)

    verificar.ponte_patched = True
    return verificar


def apply() -> list[str]:
    """Patch what is there to patch; returns the methods patched. A mongoeco whose
    method is gone or no longer takes ``scan_payload_id`` is left alone, with a warning:
    it is slower, never wrong."""
    import importlib

    patched = []
    for module_name, class_name, method_name in TARGETS:
        cls = getattr(importlib.import_module(module_name), class_name, None)
        metodo = getattr(cls, method_name, None)
        if metodo is None or "scan_payload_id" not in inspect.signature(metodo).parameters:
            logger.warning("mongoeco: %s.%s not patched (not found); inserts scan their collection",
                           class_name, method_name)  # fmt: skip
            continue
        if not getattr(metodo, "ponte_patched", False):
            setattr(cls, method_name, _sem_varredura(metodo))
        patched.append(f"{class_name}.{method_name}")
    return patched
