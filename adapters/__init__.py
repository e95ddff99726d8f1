"""Adapters: the concrete outside world (MongoDB, Redis, argon2) behind domain ports."""
