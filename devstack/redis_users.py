"""Redis users of the local servers (``make run``, the tests): the same ACL as production.

The passwords are generated once and kept in a private file beside the data, so the users
of an AOF-persisted Redis stay the same across runs; the ACL file is written anew from them
(``deploy/redis_acl.py``) before each start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import quote

from deploy import redis_acl

PASSWORDS_FILE = "redis-users.env"
ACL_FILE = "users.acl"


def prepare(folder: Path) -> tuple[Path, dict[str, str]]:
    """The ACL file to start redis-server with, and each user's password."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PASSWORDS_FILE
    passwords = _read(path)
    if set(passwords) != set(redis_acl.PASSWORD_VARIABLES):
        passwords = {user: passwords.get(user) or secrets.token_urlsafe(24) for user in redis_acl.PASSWORD_VARIABLES}
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(f"{user}={password}\n" for user, password in passwords.items()))
    return redis_acl.write(folder / ACL_FILE, passwords), passwords


def url(user: str, password: str, port: int, db: int = 0) -> str:
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/{db}"


def _read(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line)
