"""Run the `chatbot` command in-process, as a user would from a shell."""

from __future__ import annotations

import pytest

from chatbot.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`chatbot ARGS`: exit status, stdout, stderr."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
