"""Schedules made in a chat: the request grammar, the store, the book, the runner reading them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from chatbot.app import build_app, build_schedule_book, build_slack
from chatbot.config import load_settings
from chatbot.core.errors import UserInputError
from chatbot.core.grammar import Calendar
from chatbot.core.questions import parse_question
from chatbot.core.schedule_requests import (
    ChatSchedule,
    ScheduleEntry,
    ScheduleRequestError,
    parse_schedule_command,
    unique_name,
)
from chatbot.delivery.slack.scheduled import SlackReportPoster
from chatbot.render.discord_embeds import escape as discord_escape
from chatbot.render.schedule_texts import listing_text
from chatbot.render.slack_blocks import escape as slack_escape
from chatbot.scheduling.chat import ChatScheduleBook
from chatbot.scheduling.runner import DeliveryRunner, RunnerOptions
from chatbot.scheduling.schedules import make_trigger, parse_schedules
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore, open_store
from chatbot.store.chat_schedules import SQLAlchemyChatSchedules
from chatbot.store.deliveries import SQLAlchemyDeliveryLog
from tests.cli_runner import run_cli
from tests.conftest import NOW
from tests.factories import Clock
from tests.fakes.slack_api import TOKEN, FakeSlack

CAL = Calendar(now=NOW, tz="Europe/Berlin")
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
FILE = """
[[schedules]]
name = "cron-yesterday"
cron = "0 9 * * *"
period = "yesterday"
targets = ["slack:C0FILE"]
"""


def request(text: str):  # type: ignore[no-untyped-def]
    parsed = parse_schedule_command(text, CAL)
    assert parsed.request is not None
    return parsed.request


# -- the grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cron", "period", "name"),
    [
        ("schedule daily 09:00 yesterday", "0 9 * * *", "yesterday", "daily-0900-yesterday"),
        (
            "schedule weekly monday 09:00 last-week",
            "0 9 * * 1",
            "last-week",
            "weekly-mon-0900-last-week",
        ),
        (
            "schedule Weekly SUN 18:05 this week",
            "5 18 * * 0",
            "this week",
            "weekly-sun-1805-this-week",
        ),
        (
            "schedule weekdays 08:30 yesterday",
            "30 8 * * 1-5",
            "yesterday",
            "weekdays-0830-yesterday",
        ),
        (
            "schedule monthly 1 09:00 last-month",
            "0 9 1 * *",
            "last-month",
            "monthly-1-0900-last-month",
        ),
        ('schedule cron "0 9 * * 1-5" last-week', "0 9 * * 1-5", "last-week", "cron-last-week"),
        (
            "schedule cron “*/15 8-18 * * mon-fri” last 7 days",  # Slack's smart quotes
            "*/15 8-18 * * mon-fri",
            "last 7 days",
            "cron-last-7-days",
        ),
        (
            "schedule cron 0 9 1,15 jan-jun * last-month",
            "0 9 1,15 jan-jun *",
            "last-month",
            "cron-last-month",
        ),
    ],
)
def test_each_form_becomes_a_crontab_line_a_period_and_a_name(
    text: str, cron: str, period: str, name: str
) -> None:
    """Every accepted form gives a 5-field crontab line APScheduler takes, and a readable name."""
    made = request(text)
    assert (made.cron, made.period, made.base_name) == (cron, period, name)
    make_trigger(made.cron, "Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("schedule daily 25:00 yesterday", "'25:00' is not a time; use HH:MM from 00:00 to 23:59"),
        ("schedule weekly monday 9 last-week", "'9' is not a time"),
        ("schedule weekly funday 09:00 last-week", "'funday' is not a weekday"),
        ("schedule daily 09:00 lastweek", "period: 'lastweek' is not a period"),
        ("schedule daily 09:00", "Say which period"),
        ("schedule monthly 32 09:00 last-month", "'32' is not a day of the month; use 1 to 31"),
        ("schedule hourly 09:00 today", "'hourly' is not how often"),
        ('schedule cron "0 9 * * 8" last-week', "day of week '8' is not"),
        ('schedule cron "0 9 * *" last-week', "has 4 fields, not 5"),
        ("unschedule", "Say which schedule to remove"),
        ("unschedule <!channel>", "is not a schedule name"),
    ],
)
def test_bad_requests_get_one_line_naming_the_problem_and_the_forms(text: str, named: str) -> None:
    """A bad time, weekday, period or cron line is one line: what was wrong, what is accepted."""
    with pytest.raises(ScheduleRequestError) as caught:
        parse_schedule_command(text, CAL)
    message = str(caught.value)
    assert named in message
    assert "Accepted:" in message
    assert "\n" not in message
    assert isinstance(caught.value, UserInputError)


def test_only_the_three_words_are_schedule_commands() -> None:
    """schedule, schedules and unschedule start a schedule command; a period does not."""
    cal = CAL
    for text in ("schedule daily", "Schedules", " unschedule x"):
        assert parse_question(text, cal, free_text=False).kind == "schedule"
    for text in ("last-week", "", "help"):
        assert parse_question(text, cal, free_text=False).kind != "schedule"


def test_taken_names_get_a_numbered_suffix() -> None:
    """A name in use (by the file or the chat) gets -2, then -3; long names stay within 63."""
    assert unique_name("daily-0900-yesterday", {"daily-0900-yesterday"}) == "daily-0900-yesterday-2"
    taken = {"a", "a-2"}
    assert unique_name("a", taken) == "a-3"
    long = "x" * 63
    assert len(unique_name(long, {long})) == 63


# -- the store -----------------------------------------------------------------------------


def chat_row(name: str = "daily-0900-yesterday", channel: str = "C0REPORTS") -> ChatSchedule:
    return ChatSchedule(
        name=name,
        cron="0 9 * * *",
        timezone="Europe/Berlin",
        period="yesterday",
        platform="slack",
        channel=channel,
        created_by="U0ADMIN",
        created_at=NOW,
    )


def test_store_adds_lists_and_removes(store: SQLAlchemyTicketStore) -> None:
    """A kept schedule comes back the same; a taken name is refused; removing returns it."""
    schedules = SQLAlchemyChatSchedules(store.engine)
    assert schedules.add_schedule(chat_row())
    assert not schedules.add_schedule(chat_row(channel="C0OTHER"))
    assert schedules.add_schedule(chat_row("b-name"))
    assert schedules.chat_schedules() == [chat_row("b-name"), chat_row()]
    assert schedules.remove_schedule("b-name") == chat_row("b-name")
    assert schedules.remove_schedule("b-name") is None
    assert [s.name for s in schedules.chat_schedules()] == ["daily-0900-yesterday"]


def book_for(store: SQLAlchemyTicketStore, clock: Clock, file: str = FILE) -> ChatScheduleBook:
    return ChatScheduleBook(
        store=SQLAlchemyChatSchedules(store.engine),
        deliveries=SQLAlchemyDeliveryLog(store.engine),
        file_schedules=parse_schedules(file, clock.now),
        timezone="Europe/Berlin",
        clock=clock,
    )


def test_book_names_are_unique_across_the_file_and_the_chat(store: SQLAlchemyTicketStore) -> None:
    """A name the file uses, or the chat already has, gets the next suffix; each is logged."""
    book = book_for(store, Clock(NOW))
    with capture_logs() as logs:
        first = book.create(
            request('schedule cron "0 9 * * *" yesterday'),
            platform="slack",
            channel="C0REPORTS",
            by="U0ADMIN",
        )
        second = book.create(
            request('schedule cron "0 10 * * *" yesterday'),
            platform="slack",
            channel="C0REPORTS",
            by="U0OTHER",
        )
    assert (first.name, second.name) == ("cron-yesterday-2", "cron-yesterday-3")
    created = [e for e in logs if e["event"] == "schedule_created"]
    assert [(e["schedule"], e["by"], e["platform"], e["channel"]) for e in created] == [
        ("cron-yesterday-2", "U0ADMIN", "slack", "C0REPORTS"),
        ("cron-yesterday-3", "U0OTHER", "slack", "C0REPORTS"),
    ]
    # next fire: 09:00 Berlin after Thursday 2025-04-24 17:30 Berlin
    assert first.next_fire == datetime(2025, 4, 25, 7, 0, tzinfo=UTC)


def test_listing_shows_the_channel_schedules_of_both_sources(store: SQLAlchemyTicketStore) -> None:
    """A channel lists the file's schedules that post to it and its chat ones, not others'."""
    book = book_for(store, Clock(NOW))
    book.create(
        request("schedule daily 09:00 yesterday"), platform="slack", channel="C0FILE", by="U1"
    )
    book.create(
        request("schedule daily 10:00 yesterday"), platform="slack", channel="C0ELSE", by="U1"
    )
    listed = book.listing("slack", "C0FILE")
    assert [(e.name, e.source) for e in listed] == [
        ("cron-yesterday", "file"),
        ("daily-0900-yesterday", "chat"),
    ]
    assert [e.name for e in book.all_entries()] == [
        "cron-yesterday",
        "daily-0900-yesterday",
        "daily-1000-yesterday",
    ]


def test_removing_checks_the_channel_and_the_source(store: SQLAlchemyTicketStore) -> None:
    """Only a chat schedule of this channel is removed; a file's or another channel's is refused."""
    book = book_for(store, Clock(NOW))
    made = book.create(
        request("schedule daily 09:00 yesterday"), platform="slack", channel="C0A", by="U1"
    )
    with pytest.raises(ScheduleRequestError, match="comes from the schedules file"):
        book.remove("cron-yesterday", platform="slack", channel="C0FILE", by="U1")
    with pytest.raises(ScheduleRequestError, match="No schedule daily-0900-yesterday posts"):
        book.remove(made.name, platform="slack", channel="C0B", by="U1")
    with capture_logs() as logs:
        book.remove(made.name, platform="slack", channel="C0A", by="U2")
    assert [(e["event"], e["by"]) for e in logs] == [("schedule_removed", "U2")]
    assert book.listing("slack", "C0A") == []


# -- the runner ----------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest_asyncio.fixture
async def poster(fake: FakeSlack, sqlite_url: str) -> AsyncIterator[SlackReportPoster]:
    settings = load_settings(
        None,
        database_url=sqlite_url,
        slack_bot_token=TOKEN,
        slack_signing_secret="s",
        slack_api_url=fake.api_url,
    )
    app = build_app(settings, demo=False)
    bot = build_slack(app)
    assert bot is not None
    yield SlackReportPoster(bot.poster)
    app.store.engine.dispose()


def runner_for(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, clock: Clock, worker: str
) -> DeliveryRunner:
    book = book_for(store, clock, file="")
    return DeliveryRunner(
        deliveries=SQLAlchemyDeliveryLog(store.engine),
        service=ReportService(store, clock=clock),
        schedules=[],
        posters={"slack": poster},
        current=book.schedules,
        options=RunnerOptions(lease=timedelta(seconds=30)),
        worker=worker,
        clock=clock,
    )


def channel_posts(fake: FakeSlack, channel: str) -> list[str]:
    """The delivery keys of the reports' main messages in ``channel`` (replies carry none)."""
    return [
        m["metadata"]["event_payload"]["delivery_key"]
        for m in fake.posted(channel)
        if m.get("metadata") and m.get("thread_ts", m["ts"]) == m["ts"]
    ]


@pytest.mark.postgres
async def test_a_schedule_made_on_one_replica_is_posted_once_by_another(
    postgres_url: str, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """Replica A's store keeps the schedule; B, never restarted, posts its firing once; A too
    ticks and posts nothing more."""
    clock = Clock(START)
    store_a, store_b = open_store(postgres_url), open_store(postgres_url)
    try:
        runner_a = runner_for(store_a, poster, clock, "replica-a")
        runner_b = runner_for(store_b, poster, clock, "replica-b")
        await runner_b.run_once()  # B is running before the schedule exists
        assert runner_b.schedules == {}
        book_a = book_for(store_a, clock, file="")
        made = book_a.create(
            request('schedule cron "0 * * * *" yesterday'),
            platform="slack",
            channel="C0REPORTS",
            by="U0ADMIN",
        )
        clock.now = START + timedelta(hours=1, seconds=1)
        posted_by_b = await runner_b.run_once()
        await runner_a.run_once()
        await runner_b.run_once()
        fire = (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert channel_posts(fake, "C0REPORTS") == [f"{made.name}/slack:C0REPORTS/{fire}"]
        assert [d.claimed_by for d in posted_by_b] == ["replica-b"]
        assert [d.status for d in runner_a.deliveries.all()] == ["posted"]
    finally:
        store_a.engine.dispose()
        store_b.engine.dispose()


async def test_a_firing_right_after_creation_is_not_missed(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A schedule made a moment before it fires posts that firing, though no tick came between."""
    clock = Clock(START - timedelta(seconds=1))
    book = book_for(store, clock, file="")
    book.create(
        request('schedule cron "0 * * * *" yesterday'),
        platform="slack",
        channel="C0REPORTS",
        by="U0ADMIN",
    )
    clock.now = START + timedelta(seconds=1)
    await runner_for(store, poster, clock, "w").run_once()
    assert len(channel_posts(fake, "C0REPORTS")) == 1


async def test_a_removed_schedule_stops_and_its_pending_row_fails(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """Removed between planning and posting: the row fails saying so; nothing is posted later."""
    clock = Clock(START)
    book = book_for(store, clock, file="")
    made = book.create(
        request('schedule cron "0 * * * *" yesterday'),
        platform="slack",
        channel="C0REPORTS",
        by="U0ADMIN",
    )
    runner = runner_for(store, poster, clock, "w")
    clock.now = START + timedelta(hours=1, seconds=1)
    runner.plan(clock.now)  # planned, not yet claimed
    book.remove(made.name, platform="slack", channel="C0REPORTS", by="U0ADMIN")
    runner.refresh()
    [row] = runner.deliveries.claim("w", clock.now, timedelta(seconds=30))
    await runner.deliver(row)
    [failed] = runner.deliveries.all()
    assert (failed.status, failed.error) == (
        "failed",
        f"schedule {made.name!r} is no longer configured",
    )
    clock.now += timedelta(hours=2)
    await runner.run_once()
    assert channel_posts(fake, "C0REPORTS") == []
    assert len(runner.deliveries.all()) == 1


def test_the_composition_root_builds_a_book_over_the_store(sqlite_url: str) -> None:
    """build_schedule_book reads the file and the store; the team's zone is the schedules'."""
    app = build_app(load_settings(None, database_url=sqlite_url, tz="Europe/Berlin"), demo=False)
    try:
        book = build_schedule_book(app, [])
        made = book.create(
            request("schedule daily 09:00 yesterday"), platform="slack", channel="C0A", by="U1"
        )
        assert made.timezone == "Europe/Berlin"
        assert [s.name for s in book.schedules()] == ["daily-0900-yesterday"]
    finally:
        app.store.engine.dispose()


@pytest.mark.parametrize(
    ("escape", "pings"),
    [
        (slack_escape, ("<!", "<@")),  # Slack pings through <!here>, <@U…> only
        (discord_escape, ("@everyone", "@here", "<@")),
    ],
)
def test_a_listing_keeps_hostile_file_text_inert(
    escape: Callable[[str], str], pings: tuple[str, ...]
) -> None:
    """A file's cron or period with mentions and backticks neither pings nor breaks the spans."""
    entry = ScheduleEntry(
        name="from-file",
        source="file",
        cron="0 9 * * 1 `<!channel>` @everyone",
        timezone="UTC",
        period="last-week <@U0BOSS> @here",
        targets=("slack:C0A",),
        next_fire=None,
    )
    text = listing_text([entry], "/support-report", escape)
    assert [p for p in pings if p in text] == []
    assert text.count("`") % 2 == 0


def test_the_cli_lists_file_and_chat_schedules_with_their_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chatbot schedules` shows the file's and the chat's, each with its source and next firing."""
    config = tmp_path / "chatbot.toml"
    config.write_text(FILE)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("CHATBOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", url)
    app = build_app(load_settings(None), demo=False)
    try:
        build_schedule_book(app).create(
            request("schedule weekly monday 09:00 last-week"),
            platform="discord",
            channel="1300000000000000001",
            by="1400000000000000001",
        )
    finally:
        app.store.engine.dispose()
    capsys.readouterr()  # the creation's log line
    code, out, _err = run_cli(capsys, "schedules")
    assert code == 0
    file_line, chat_line = out.splitlines()
    assert file_line.startswith(
        "cron-yesterday [file]: '0 9 * * *' UTC, period yesterday, to slack:C0FILE; next "
    )
    assert chat_line.startswith(
        "weekly-mon-0900-last-week [chat by 1400000000000000001]: '0 9 * * 1' UTC,"
        " period last-week, to discord:1300000000000000001; next "
    )
    assert "T09:00:00+00:00" in chat_line
