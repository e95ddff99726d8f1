"""``/auth``: customer log-in, token refresh and log-out."""
