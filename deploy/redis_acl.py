"""Redis ACL users for Ponte: one file of rules, written with the passwords of this deployment.

Principals (docs/security.md has the whole table):

- ``ponte``: every Ponte process (web, worker, bridge, beat, Flower). It needs the broker,
  the cache, the counters and the bridge's channels and stream, so every key and channel,
  but no administrative or dangerous command (CONFIG, ACL, FLUSHALL, KEYS, MONITOR, ...).
- ``crm``: the Java CRM's publisher. PUBLISH on its three channels, XADD on the durable
  stream and GET of the stream's epoch (when to send again), nothing else: it cannot
  subscribe, read another key, or publish on ``pedidos``.
- ``crm-pedidos``: the CRM's reader of order changes: SUBSCRIBE on ``pedidos`` only.
- ``default``: off, so a client without credentials gets nothing.

``python -m deploy.redis_acl --out deploy/redis/users.acl`` writes the file from the
passwords in ``REDIS_PONTE_PASSWORD``, ``REDIS_CRM_PASSWORD`` and
``REDIS_CRM_PEDIDOS_PASSWORD``; only their SHA-256 reaches the file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

PONTE, CRM, CRM_PEDIDOS = "ponte", "crm", "crm-pedidos"
CRM_CHANNELS = ("produtos", "canal-clientes", "carrinho:*")
ORDER_CHANNEL = "pedidos"
STREAM = "ponte:eventos"
STREAM_EPOCH = f"{STREAM}:epoca"  # read-only: the CRM sends again when it changes
PASSWORD_VARIABLES = {
    PONTE: "REDIS_PONTE_PASSWORD",
    CRM: "REDIS_CRM_PASSWORD",
    CRM_PEDIDOS: "REDIS_CRM_PEDIDOS_PASSWORD",
}
MIN_PASSWORD_LENGTH = 16

_RULES = {
    PONTE: "~* &* +@all -@admin -@dangerous",
    # resetchannels/resetkeys first: nothing is inherited from acl-pubsub-default.
    CRM: " ".join(
        [
            "resetchannels",
            *(f"&{c}" for c in CRM_CHANNELS),
            f"resetkeys ~{STREAM} %R~{STREAM_EPOCH}",
            "-@all +publish +xadd +get +ping",
        ]
    ),
    CRM_PEDIDOS: f"resetchannels &{ORDER_CHANNEL} resetkeys -@all +subscribe +unsubscribe +ping",
}


def render(passwords: dict[str, str]) -> str:
    """The ACL file's text (``aclfile`` format) for these users' passwords."""
    lines = ["user default off"]  # an ACL file takes no comments
    for user, rules in _RULES.items():
        password = passwords[user]
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"the password of Redis user {user!r} must have {MIN_PASSWORD_LENGTH}+ characters")
        digest = hashlib.sha256(password.encode()).hexdigest()
        lines.append(f"user {user} on #{digest} {rules}")
    return "\n".join(lines) + "\n"


def write(path: Path, passwords: dict[str, str]) -> Path:
    """Write the ACL file readable by its owner only (redis-server reads it at start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(render(passwords))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write Ponte's Redis ACL file from the users' passwords.")
    parser.add_argument("--out", type=Path, required=True, help="the file redis-server loads (--aclfile)")
    args = parser.parse_args(argv)
    missing = [var for var in PASSWORD_VARIABLES.values() if not os.environ.get(var)]
    if missing:
        print(f"redis_acl: set {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        write(args.out, {user: os.environ[var] for user, var in PASSWORD_VARIABLES.items()})
    except ValueError as exc:
        print(f"redis_acl: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
