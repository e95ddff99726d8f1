"""The docs as files: every command block accounted for, the README a front door, every
setting documented, nothing read from outside the repository."""

from __future__ import annotations

import re
import subprocess

import settings
from adapters.despachante import FILAS
from tests.docs_blocks import ELSEWHERE, NOT_HERE, PAGES, RUN, blocks, find
from tests.helpers import ROOT


def test_every_bash_block_is_run_or_says_why_not():
    listed = [*RUN, *ELSEWHERE, *NOT_HERE]
    assert len(set(listed)) == len(listed), "a block is listed twice"
    claimed = {find(page, start) for page, start in listed}  # each entry names exactly one block
    missing = [f"{b.page}: {b.first_line}" for b in blocks() if b not in claimed]
    assert not missing, f"bash blocks no test runs and no reason given for: {missing}"


def test_shell_blocks_are_marked_bash():
    # The check above only sees ```bash: a ```sh or ```console block would escape it.
    other = {b.language for b in blocks(language=None)} - {"bash", "", "java", "yaml", "json", "python"}
    assert not other, other


def test_the_readme_is_a_front_door_linking_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 15 * 1024
    for page in PAGES[1:]:
        assert f"]({page})" in readme, f"README.md does not link {page}"


def test_every_setting_is_in_the_settings_table():
    table = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert [key for key in settings.DEFAULTS if f"`{key}`" not in table] == []


def test_the_documented_systemd_workers_cover_every_queue():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("systemctl enable --now ponte-worker@"))
    queues = {q for instance in re.findall(r"ponte-worker@(\S+)", line) for q in instance.split(",")}
    assert queues == set(FILAS)


def test_nothing_in_the_repository_reads_outside_it():
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    pattern = re.compile(r"\.\./shared|parent / \"shared\"")
    offenders = []
    for name in files.stdout.splitlines():
        path = ROOT / name
        if path.is_file() and path.suffix not in (".png", ".ico", ".woff2"):
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{name}: {m.group()}" for m in pattern.finditer(text)]
    assert offenders == []
