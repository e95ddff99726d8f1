"""``/auditoria``: the audit trail, for staff with ``audit:read``."""
