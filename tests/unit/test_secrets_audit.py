"""The suite's secrets audit (tests/secrets_audit.py) finds what it must find."""

from tests.secrets_audit import register, scan


def test_scan_reports_each_secret_in_each_file(tmp_path):
    clean = tmp_path / "clean.log"
    clean.write_text('{"message": "login ok senha=***"}\n')
    leaky = tmp_path / "leaky.log"
    leaky.write_text("debug: senha=hunter2-leaked and key ponte_ab12cd34_secretpart\n")
    found = scan([clean, leaky, tmp_path / "missing.log"], {"hunter2-leaked", "ponte_ab12cd34_secretpart", "other-one"})
    assert sorted(found) == [(str(leaky), "hunter2-leaked"), (str(leaky), "ponte_ab12cd34_secretpart")]


def test_short_values_are_not_registered_as_secrets():
    assert register("abc") == "abc"  # returned for chaining, but too short to audit
    assert scan([], {"x"}) == []
