"""``/envios``: shipments and their tracking history."""
