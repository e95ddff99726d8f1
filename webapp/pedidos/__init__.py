"""``/pedidos``: checkout and orders. A customer sees only their own; staff see all."""
