"""Print docs/security.md's access table from the authorization matrix test and the app's rules.

.venv/bin/python scripts/access_table.py   # paste between the access-table markers
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.test_authorization_matrix import EXPECTED
from webapp import create_app
from webapp.security import politica_da_rota


def main() -> None:
    app = create_app({"PONTE_ENV": "test"})
    endpoints = {r.rule: r.endpoint for r in app.url_map.iter_rules()}
    print("<!-- access-table:start -->")
    print("| route | method | rule | anônimo | cliente A (dono) | cliente B | staff sem escopo | staff admin |")
    print("|---|---|---|---|---|---|---|---|")
    with app.test_request_context():
        for (rule, method), statuses in EXPECTED.items():
            politica = politica_da_rota(endpoints[rule], method)
            regra = politica.descricao if politica else "público"
            print(f"| `{rule}` | {method} | {regra} | " + " | ".join(map(str, statuses)) + " |")
    print("<!-- access-table:end -->")


if __name__ == "__main__":
    main()
