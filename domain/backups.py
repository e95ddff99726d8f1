"""Backups of the database: their names, their manifest, and the checks a restore makes.

Plain rules, no I/O: the adapter writes and reads the files (mongodump's directory layout,
``<backup>/<db>/<collection>.bson`` and ``.metadata.json``), the service decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.errors import DomainError

MANIFEST = "manifest.json"
FORMAT = "ponte-backup/1"
# Sorts in time order as text, so the newest backup is the last name.
NAME_FORMAT = "%Y%m%dT%H%M%S.%fZ"


class InvalidBackup(DomainError):
    """The backup is incomplete, truncated or altered: nothing may be restored from it."""


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    db: str
    created_at: datetime
    files: dict[str, FileEntry]
    collections: dict[str, int]
    version: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "db": self.db,
            "created_at": self.created_at.isoformat(),
            "ponte": self.version,
            "collections": {name: {"documents": n} for name, n in sorted(self.collections.items())},
            "files": {path: {"size": e.size, "sha256": e.sha256} for path, e in sorted(self.files.items())},
        }

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        """Parse a manifest; a missing or malformed field is an ``InvalidBackup``."""
        try:
            if data["format"] != FORMAT:
                raise InvalidBackup(f"unknown backup format {data['format']!r} (expected {FORMAT})")
            return cls(
                db=str(data["db"]),
                created_at=datetime.fromisoformat(data["created_at"]),
                files={p: FileEntry(int(e["size"]), str(e["sha256"])) for p, e in data["files"].items()},
                collections={name: int(c["documents"]) for name, c in data["collections"].items()},
                version=dict(data.get("ponte") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidBackup(f"{MANIFEST} is malformed: {exc!r}") from None

    @property
    def documents(self) -> int:
        return sum(self.collections.values())

    @property
    def size(self) -> int:
        return sum(e.size for e in self.files.values())


def backup_name(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(NAME_FORMAT)


def is_backup_name(name: str) -> bool:
    try:
        datetime.strptime(name, NAME_FORMAT)
    except ValueError:
        return False
    return True


def to_rotate(names: list[str], keep: int) -> list[str]:
    """The backups beyond the newest ``keep`` (``keep`` < 1 keeps them all)."""
    ordered = sorted(n for n in names if is_backup_name(n))
    return ordered[:-keep] if keep >= 1 else []


def problems(manifest: Manifest, measured: dict[str, FileEntry]) -> list[str]:
    """What differs between the files on disk and the manifest (empty: the backup is whole)."""
    found = []
    for path, expected in sorted(manifest.files.items()):
        got = measured.get(path)
        if got is None:
            found.append(f"{path}: missing")
        elif got.size != expected.size:
            found.append(f"{path}: {got.size} bytes, the manifest says {expected.size} (truncated or grown)")
        elif got.sha256 != expected.sha256:
            found.append(f"{path}: SHA-256 differs from the manifest (altered)")
    found += [f"{path}: not in the manifest" for path in sorted(set(measured) - set(manifest.files))]
    return found


def check(manifest: Manifest, measured: dict[str, FileEntry]) -> None:
    """Raise ``InvalidBackup`` naming every file that does not match the manifest."""
    found = problems(manifest, measured)
    if found:
        raise InvalidBackup("backup refused, nothing was restored: " + "; ".join(found))
