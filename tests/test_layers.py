"""The import-linter contracts of pyproject.toml hold, and each one fails on a broken arrow.

Each case copies the package, adds one import that breaks one arrow, and runs the real
``lint-imports`` on the copy: the contract it breaks must report BROKEN.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "chatbot", tmp_path / "chatbot", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path, contract: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")]
    if contract is not None:
        command += ["--contract", contract]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("contract", "module", "line"),
    [
        ("core-pure", "core/models.py", "import sqlalchemy"),
        ("core-pure", "core/report.py", "import chatbot.analysis"),
        ("core-pure", "core/periods.py", "import chatbot.lazylog"),  # structlog, on first use
        ("pure-code", "analysis/scoring.py", "import chatbot.store"),
        ("pure-code", "render/markdown.py", "import chatbot.service"),
        ("platforms-independent", "delivery/slack/messages.py", "import chatbot.delivery.discord"),
        ("root-only", "server.py", "import chatbot.delivery.slack"),
        ("root-only", "scheduling/runner.py", "import chatbot.store"),
        ("platforms-use-ports", "delivery/discord/messages.py", "import chatbot.store.tables"),
        ("layers", "service.py", "import chatbot.app"),
        ("llm-alone", "llm/refine.py", "import chatbot.store"),
        ("llm-alone", "llm/prompt.py", "import chatbot.render"),
        ("openai-in-llm", "service.py", "import openai"),
        ("root-only", "service.py", "import chatbot.llm"),
    ],
)
def test_a_broken_arrow_breaks_its_contract(
    tmp_path: Path, contract: str, module: str, line: str
) -> None:
    tree = _copy(tmp_path)
    path = tree / "chatbot" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = _lint(tree, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
