"""No function of the application is over 40 lines (from ``def`` to its last line, docstring
included) unless a ``# long:`` comment in it says why it cannot be split."""

from __future__ import annotations

import ast
import io
import tokenize

from tests.helpers import ROOT

LIMIT = 40
OUTSIDE = {"tests", "bench", ".venv", "var", "node_modules"}


def long_functions() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if OUTSIDE & set(rel.parts[:-1]) or rel.parts[0].startswith("."):
            continue
        source = path.read_text(encoding="utf-8")
        comments = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = node.end_lineno - node.lineno + 1
            explained = any(
                node.lineno <= c.start[0] <= node.end_lineno and c.string.startswith("# long:") for c in comments
            )
            if length > LIMIT and not explained:
                found.append(f"{rel}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_over_40_lines_without_saying_why():
    assert not long_functions()
