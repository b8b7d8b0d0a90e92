"""Every environment default is read in `pipekit.settings`, when it is needed, and documented."""

from __future__ import annotations

import ast
import re

import pytest

from pipekit import settings
from tests.support import REPO

SOURCE = REPO / "src" / "pipekit"
# Passes the environment on rather than taking defaults from it: MCP credentials to the
# servers it starts, and `${VAR}` in MCP configs.
PASS_THROUGH = {"mcp/client.py"}


def variables_read_by_settings() -> set[str]:
    text = (SOURCE / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r'(?:getenv|_whole_number)\(\s*"([A-Z][A-Z0-9_]*)"', text))


def reads_environment(tree: ast.AST) -> bool:
    """`os.getenv(…)`, `os.environ.get(…)` or `os.environ[…]` read (not assigned)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.getenv", "os.environ.get"):
            return True
        if (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.ctx, ast.Load)
        ):
            return True
    return False


def test_only_settings_reads_the_environment():
    readers = [
        name
        for path in sorted(SOURCE.rglob("*.py"))
        if (name := path.relative_to(SOURCE).as_posix()) not in PASS_THROUGH | {"settings.py"}
        and reads_environment(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert readers == [], "read the environment through a function in pipekit.settings"


def test_the_environment_check_sees_reads_but_not_writes():
    assert reads_environment(ast.parse('x = os.environ.get("A") or os.getenv("B")'))
    assert reads_environment(ast.parse('x = os.environ["A"]'))
    assert not reads_environment(ast.parse('os.environ["A"] = "1"'))


def test_every_variable_is_in_the_serve_docs_environment_table_once():
    doc = (REPO / "docs" / "serve.md").read_text(encoding="utf-8")
    table = doc.split("## Environment", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    for variable in sorted(variables_read_by_settings()):
        listed = [row for row in rows if f"`{variable}`" in row or f"${variable}" in row]
        assert len(listed) == 1, f"{variable} should be in docs/serve.md's table once"


def test_an_environment_change_is_seen_by_the_next_call(monkeypatch):
    monkeypatch.setenv("MILVUS_HNSW_M", "8")
    assert settings.milvus_hnsw_m() == 8
    monkeypatch.setenv("MILVUS_HNSW_M", "24")
    assert settings.milvus_hnsw_m() == 24
    monkeypatch.delenv("MILVUS_HNSW_M")
    assert settings.milvus_hnsw_m() == settings.DEFAULT_HNSW_M
    monkeypatch.setenv("PIPEKIT_GUARD_MODEL", "  ")
    assert settings.guard_model() == settings.DEFAULT_GUARD_MODEL


def test_a_number_that_is_not_one_names_the_variable(monkeypatch):
    monkeypatch.setenv("MILVUS_HNSW_EF", "lots")
    with pytest.raises(ValueError, match="MILVUS_HNSW_EF must be a whole number, not 'lots'"):
        settings.milvus_hnsw_ef()
