"""``/eventos-rejeitados``: the dead-letter store of CRM events (scope ``eventos``)."""
