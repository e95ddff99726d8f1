"""``/chaves``: staff API keys, for administrators (the CLI does the same)."""
