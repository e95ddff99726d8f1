"""``/pagamentos``: a boleto or pix confirmed by staff (the gateway's callback)."""
