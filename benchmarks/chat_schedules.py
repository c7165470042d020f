"""Time what chat schedules add to every tick: the runner reading the file's and the store's.

Each replica's runner calls ``ChatScheduleBook.schedules`` once a tick (one ``SELECT`` of
``chat_schedules``; a trigger is built only for a row it has not seen). This keeps ``--rows``
chat schedules in a fresh store (SQLite file, and PostgreSQL with ``--postgres URL`` of an
empty database) and prints, one ``name: value`` a line, the median over ``--repeat`` reads:

* ``<db>_rows_<n>_refresh_ms``: a tick's read once the triggers are built (the steady state);
* ``<db>_rows_<n>_first_refresh_ms``: the first read, building every trigger.

    python benchmarks/chat_schedules.py
    python benchmarks/chat_schedules.py --rows 10,100,1000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.core.schedule_requests import ChatSchedule
from chatbot.scheduling.chat import ChatScheduleBook
from chatbot.store import open_store
from chatbot.store.chat_schedules import SQLAlchemyChatSchedules
from chatbot.store.deliveries import SQLAlchemyDeliveryLog
from chatbot.store.tables import chat_schedules


def measure(url: str, label: str, rows: int, repeat: int) -> None:
    store = open_store(url)
    try:
        with store.engine.begin() as conn:
            conn.execute(chat_schedules.delete())
        table = SQLAlchemyChatSchedules(store.engine)
        now = datetime.now(UTC)
        for i in range(rows):
            table.add_schedule(
                ChatSchedule(
                    name=f"daily-{i:04d}",
                    cron=f"{i % 60} {i % 24} * * *",
                    timezone="Europe/Berlin",
                    period="yesterday",
                    platform="slack",
                    channel=f"C{i:08d}",
                    created_by="U0ADMIN",
                    created_at=now,
                )
            )
        book = ChatScheduleBook(
            store=table, deliveries=SQLAlchemyDeliveryLog(store.engine), timezone="Europe/Berlin"
        )
        started = time.perf_counter()
        assert len(book.schedules()) == rows
        first = (time.perf_counter() - started) * 1000
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            book.schedules()
            times.append((time.perf_counter() - started) * 1000)
        print(f"{label}_rows_{rows}_first_refresh_ms: {first:.2f}")
        print(f"{label}_rows_{rows}_refresh_ms: {statistics.median(times):.2f}")
    finally:
        store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgres", default=None, help="URL of an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for rows in (int(n) for n in args.rows.split(",")):
            measure(f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite", rows, args.repeat)
            if args.postgres:
                measure(args.postgres, "postgres", rows, args.repeat)


if __name__ == "__main__":
    main()
