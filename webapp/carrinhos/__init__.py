"""``/carrinhos``: the customer's open cart (``/carrinhos/me``), and every cart for staff."""
