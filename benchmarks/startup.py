"""Time the cold start of ``chatbot report last-week --no-files`` on the demo store.

Each figure is the median of ``--runs`` fresh interpreters (after ``--warmup`` unmeasured
ones), in a temporary folder with its own ``XDG_DATA_HOME``, so the default SQLite file is
new and no ``.env`` is read; the settings' variables of this shell are left out. The first
run loads the demo and is not measured: the report runs are what a user sees every day.
Prints one ``name: value`` a line:

* ``python_startup_ms``: ``python -c pass``, the floor;
* ``import_chatbot_cli_ms``: ``python -c "import chatbot.cli"``;
* ``report_last_week_no_files_ms``: the command itself (its console script), themes and
  all;
* ``themes_import_ms``: importing the themes' TF-IDF and NMF modules (numpy with them),
  what the themes add to a report that groups them.

Each also has a ``..._cpu_ms`` line, its user + system CPU time: steadier than the wall
time on a machine busy with other work.

With ``--against DIR`` (a checkout of another version, e.g. ``git worktree add /tmp/old
main``), each command also runs on that version's ``chatbot`` package (``PYTHONPATH=DIR``,
same interpreter and libraries), alternating with this one run by run, so both see the same
machine load; its lines are prefixed ``against_``.

    python benchmarks/startup.py              # 10 runs each
    python benchmarks/startup.py --runs 30
    python benchmarks/startup.py --against /tmp/old

Target (issue 13): the report under 350 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.config import Settings

THEMES_IMPORT = "import chatbot.analysis.nmf\nimport chatbot.analysis.tfidf\n"


def clean_env(data_home: Path) -> dict[str, str]:
    """This shell's environment without the settings' variables, with its own data folder."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env["XDG_DATA_HOME"] = str(data_home)
    return env


def chatbot_command() -> list[str]:
    """The installed ``chatbot`` script beside this interpreter, else ``python -m chatbot``."""
    script = Path(sys.executable).with_name("chatbot")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "chatbot"]


def timed(command: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def medians(
    command: Sequence[str], envs: Sequence[dict[str, str]], cwd: Path, runs: int, warmup: int
) -> list[tuple[float, float]]:
    """For each of ``envs``, the median wall and CPU milliseconds of ``runs`` runs (after
    ``warmup`` unmeasured), the environments taking turns run by run."""
    for _ in range(warmup):
        for env in envs:
            timed(command, env, cwd)
    samples: list[list[tuple[float, float]]] = [[] for _ in envs]
    for _ in range(runs):
        for env, taken in zip(envs, samples, strict=True):
            taken.append(timed(command, env, cwd))
    return [
        (statistics.median(s[0] for s in taken), statistics.median(s[1] for s in taken))
        for taken in samples
    ]


def main() -> None:
    """Print the start-up figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs of each command")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs before them")
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="a checkout of another version to time alternately with this one",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    try:
        env = clean_env(folder / "data")
        envs = {"": env}
        if args.against is not None:
            envs["against_"] = {**env, "PYTHONPATH": str(args.against.resolve())}
        python = sys.executable
        # ``-m chatbot``, not the console script, so PYTHONPATH picks the version to run
        report = [python, "-m", "chatbot", "report", "last-week", "--no-files"]
        if args.against is None:
            report = [*chatbot_command(), "report", "last-week", "--no-files"]
        subprocess.run(report, env=env, cwd=folder, check=True, stdout=subprocess.DEVNULL)

        commands = {
            "python_startup": [python, "-c", "pass"],
            "import_chatbot_cli": [python, "-c", "import chatbot.cli"],
            "report_last_week_no_files": report,
            "themes_import": [python, "-c", THEMES_IMPORT],
        }
        for name, command in commands.items():
            figures = medians(command, list(envs.values()), folder, args.runs, args.warmup)
            for prefix, (wall, cpu) in zip(envs, figures, strict=True):
                print(f"{prefix}{name}_ms: {wall:.0f}")
                print(f"{prefix}{name}_cpu_ms: {cpu:.0f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
