"""The backup rules without I/O: names in time order, rotation, the manifest's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.backups import FileEntry, InvalidBackup, Manifest, backup_name, check, is_backup_name, problems, to_rotate

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_names_sort_in_time_order_whatever_the_offset():
    tarde = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=-3)))  # 13:00 UTC
    assert backup_name(T0) < backup_name(tarde)
    assert is_backup_name(backup_name(T0)) and not is_backup_name(".x.partial")


def test_rotation_keeps_the_newest_and_ignores_other_files():
    names = [backup_name(T0 + timedelta(hours=h)) for h in (2, 0, 1)] + ["notas.txt"]
    assert to_rotate(names, 2) == [backup_name(T0)]
    assert to_rotate(names, 5) == []


def test_the_manifest_reads_back_what_it_wrote():
    m = Manifest("ecommerce", T0, {"ecommerce/a.bson": FileEntry(3, "ab" * 32)}, {"a": 1}, {"version": "0.1.0"})
    assert Manifest.from_dict(m.to_dict()) == m
    with pytest.raises(InvalidBackup, match="malformed"):
        Manifest.from_dict({**m.to_dict(), "files": {"x": {"size": "?"}}})
    with pytest.raises(InvalidBackup, match="unknown backup format"):
        Manifest.from_dict({**m.to_dict(), "format": "other/9"})


def test_every_file_that_differs_is_named():
    m = Manifest(
        "d", T0, {"d/a.bson": FileEntry(3, "1"), "d/b.bson": FileEntry(3, "2"), "d/c.bson": FileEntry(1, "3")}, {}
    )
    medido = {"d/a.bson": FileEntry(2, "1"), "d/b.bson": FileEntry(3, "9"), "d/x.bson": FileEntry(1, "4")}
    assert problems(m, medido) == [
        "d/a.bson: 2 bytes, the manifest says 3 (truncated or grown)",
        "d/b.bson: SHA-256 differs from the manifest (altered)",
        "d/c.bson: missing",
        "d/x.bson: not in the manifest",
    ]
    with pytest.raises(InvalidBackup, match="nothing was restored"):
        check(m, medido)
