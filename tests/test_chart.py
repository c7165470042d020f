"""The report's chart: the series it plots, the PNG it makes, and where it goes.

The series is checked against counts made straight from the tickets; the PNG is decoded
with Pillow (matplotlib's own dependency). Files are written through the file writer,
Slack posts go through the delivery runner and the real Slack client to the fake Slack
API, and Discord posts through discord.py to the fake Discord.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image
from structlog.testing import capture_logs

from chatbot.analysis.report import build_report
from chatbot.app import PlatformContext, build_app, build_slack
from chatbot.config import load_settings
from chatbot.core.models import Ticket
from chatbot.core.periods import Period, day_period
from chatbot.core.report import Report
from chatbot.delivery.discord import DiscordBot, DiscordDeps
from chatbot.delivery.files import write_period
from chatbot.delivery.slack.scheduled import SlackReportPoster
from chatbot.render.chart import (
    CHART_ALT,
    DPI,
    HEIGHT_INCHES,
    MAX_TICKS,
    WIDTH_INCHES,
    chart_series,
    render_chart,
    tick_positions,
)
from chatbot.render.discord_embeds import render_discord_message
from chatbot.render.markdown import render_markdown
from chatbot.scheduling.runner import DeliveryRunner, RunnerOptions
from chatbot.scheduling.schedules import parse_schedules
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore, open_store
from chatbot.store.deliveries import SQLAlchemyDeliveryLog
from tests.factories import Clock, ticket
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.slack_api import TOKEN, FakeSlack

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEEK = Period(start=date(2025, 4, 21), end=date(2025, 4, 27), label="2025-W17", kind="week")
AFTER_WEEK = datetime(2025, 4, 28, 8, 0, tzinfo=UTC)


def week_tickets() -> list[Ticket]:
    """Tickets around WEEK: from before it (still open, closed in it), in it, and after it."""
    return [
        ticket(1, "2025-04-10 09:00"),  # open all week: backlog only
        ticket(2, "2025-04-12 09:00", closed="2025-04-22 10:00"),  # resolved on Tuesday
        ticket(3, "2025-04-21 09:00"),
        ticket(4, "2025-04-21 17:00", closed="2025-04-21 18:00"),  # received and resolved Monday
        ticket(5, "2025-04-23 08:00", closed="2025-04-26 12:00"),
        ticket(6, "2025-04-23 09:00"),
        ticket(7, "2025-04-23 23:59"),
        ticket(8, "2025-04-27 12:00", closed="2025-05-02 09:00"),  # open at the week's end
        ticket(9, "2025-04-29 09:00"),  # after the week
    ]


def report_of(tickets: list[Ticket], period: Period = WEEK, now: datetime = AFTER_WEEK) -> Report:
    """The report of ``period`` from ``tickets``, with the backlog counted from them."""
    as_of = min(period.end_at, now)
    backlog = sum(1 for t in tickets if t.created_at < as_of and t.is_open_at(as_of))
    return build_report(
        period=period, tickets=tickets, backlog=backlog, previous=None, now=now, repos=["acme/s"]
    )


def decode(png: bytes) -> Image.Image:
    """The PNG decoded (fully, so a truncated file fails here)."""
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


# -- the series ----------------------------------------------------------------------------


def test_series_are_the_days_received_resolved_and_backlog_of_the_period() -> None:
    """Each day's bars are its received and resolved counts; the line is the open backlog."""
    tickets = week_tickets()
    series = chart_series(report_of(tickets))
    assert series.days == tuple(WEEK.each_day())
    assert series.received == (2, 0, 3, 0, 0, 0, 1)
    assert series.resolved == (1, 1, 0, 0, 0, 1, 0)
    for day, backlog in zip(series.days, series.backlog, strict=True):
        end = day_period(day).end_at
        open_then = sum(1 for t in tickets if t.created_at < end and t.is_open_at(end))
        assert backlog == open_then, day
    assert series.backlog == (3, 2, 5, 5, 5, 4, 5)


def test_days_not_over_yet_have_no_backlog() -> None:
    """In a period still in progress, the line stops at today; the bars are there, zero."""
    now = datetime(2025, 4, 23, 12, 0, tzinfo=UTC)  # Wednesday noon
    so_far = [
        *week_tickets()[:4],  # the store as it is at noon
        ticket(5, "2025-04-23 08:00"),
        ticket(6, "2025-04-23 09:00"),
    ]
    series = chart_series(report_of(so_far, now=now))
    assert series.backlog[:3] == (3, 2, 4)  # Wednesday so far: #1, #3, #5, #6
    assert series.backlog[3:] == (None, None, None, None)
    assert series.received[3:] == (0, 0, 0, 0)


def test_days_are_the_team_time_zone_days() -> None:
    """A ticket opened at 23:30 UTC on Monday is Tuesday's in Berlin."""
    period = Period(start=date(2025, 4, 21), end=date(2025, 4, 22), tz="Europe/Berlin")
    series = chart_series(report_of([ticket(1, "2025-04-21 23:30")], period=period))
    assert series.received == (0, 1)


# -- the PNG ---------------------------------------------------------------------------------


def test_chart_is_a_png_of_the_right_size() -> None:
    """The chart decodes as a PNG image of the figure's size."""
    image = decode(render_chart(report_of(week_tickets())))
    assert image.size == (int(WIDTH_INCHES * DPI), int(HEIGHT_INCHES * DPI))
    colours = image.convert("RGB").getcolors(maxcolors=100_000)
    assert colours is not None
    assert len(colours) > 10  # bars, a line and text were drawn, not a blank canvas


def test_same_report_same_bytes_and_no_timestamp() -> None:
    """Two renderings of one report are byte for byte equal; no software tag or time in it."""
    report = report_of(week_tickets())
    first, second = render_chart(report), render_chart(report)
    assert first == second
    assert decode(first).info.keys() <= {"dpi"}
    assert b"tIME" not in first
    assert b"Software" not in first


@pytest.mark.parametrize("days", [1, 366])
def test_one_day_and_a_whole_year_both_draw(days: int) -> None:
    """The shortest and the longest period give a valid chart, with at most a dozen labels."""
    end = date(2025, 4, 27)
    period = Period(start=end - timedelta(days=days - 1), end=end, label=f"last-{days}-days")
    series = chart_series(report_of(week_tickets(), period=period))
    assert len(series.days) == days
    decode(render_chart(report_of(week_tickets(), period=period)))
    assert len(tick_positions(days)) <= MAX_TICKS


def test_a_period_without_tickets_still_has_a_chart() -> None:
    """No tickets: zero bars and a flat backlog line, still a valid PNG."""
    report = report_of([])
    series = chart_series(report)
    assert series.received == series.resolved == (0,) * 7
    assert series.backlog == (0,) * 7
    decode(render_chart(report))


# -- the files -------------------------------------------------------------------------------


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ReportService]:
    """A report service over a SQLite store holding the week's tickets."""
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    store.save_tickets(week_tickets())
    yield ReportService(store, clock=lambda: AFTER_WEEK)
    store.engine.dispose()


def test_files_include_the_chart_linked_from_the_markdown(
    service: ReportService, tmp_path: Path
) -> None:
    """report.png is written beside report.md, which links it by its relative name."""
    [written] = write_period(service, day_period(date(2025, 4, 23)), tmp_path / "reports")
    assert written.chart == written.markdown.parent / "report.png"
    decode(written.chart.read_bytes())
    text = written.markdown.read_text()
    assert f"![{CHART_ALT}](report.png)" in text
    assert text.index("## Summary") < text.index("![") < text.index("Most Active")
    assert chart_series(written.report).received == (3,)


def test_weekly_files_each_have_their_own_chart(service: ReportService, tmp_path: Path) -> None:
    """A week writes its dailies too: every Markdown file links a chart that exists."""
    written = write_period(service, WEEK, tmp_path / "reports")
    assert len(written) == 8
    for done in written:
        target = done.markdown.parent / "report.png"
        assert target.is_file()
        assert "![" in done.markdown.read_text()
    assert len({done.chart for done in written}) == 8


def test_markdown_without_a_chart_links_none() -> None:
    """Printed (``--no-files``) or rendered without a path, the Markdown links no image."""
    assert "![" not in render_markdown(report_of(week_tickets()))


# -- Slack: scheduled posts --------------------------------------------------------------------

SCHEDULE = """
[[schedules]]
name = "weekly"
cron = "0 9 * * MON"
period = "last-week"
targets = ["slack:C0SUPPORT"]
"""
FIRE = datetime(2025, 4, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest_asyncio.fixture
async def slack_poster(slack: FakeSlack, sqlite_url: str) -> AsyncIterator[SlackReportPoster]:
    """The scheduled Slack poster as `chatbot serve` builds it (charts on), at the fake."""
    settings = load_settings(
        None,
        database_url=sqlite_url,
        slack_bot_token=TOKEN,
        slack_signing_secret="s",
        slack_api_url=slack.api_url,
    )
    app = build_app(settings, demo=False)
    bot = build_slack(app, PlatformContext(charts=True))
    assert bot is not None
    yield SlackReportPoster(bot.poster, post_timeout=5)
    app.store.engine.dispose()


def slack_runner(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, clock: Clock
) -> DeliveryRunner:
    store.save_tickets(week_tickets())
    return DeliveryRunner(
        deliveries=SQLAlchemyDeliveryLog(store.engine),
        service=ReportService(store, clock=clock),
        schedules=parse_schedules(SCHEDULE, clock.now),
        posters={"slack": poster},
        options=RunnerOptions(lease=timedelta(seconds=30), backoff=timedelta(seconds=5)),
        worker="w1",
        clock=clock,
    )


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[SQLAlchemyTicketStore]:
    opened = open_store(sqlite_url)
    yield opened
    opened.engine.dispose()


def top_level(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.posted("C0SUPPORT") if m.get("thread_ts", m["ts"]) == m["ts"]]


async def test_scheduled_slack_post_uploads_the_chart_into_its_thread_once(
    slack: FakeSlack, slack_poster: SlackReportPoster, sqlite_store: SQLAlchemyTicketStore
) -> None:
    """The scheduled report's chart is one file in the report's thread; later ticks add none."""
    clock = Clock(FIRE - timedelta(minutes=5))
    runner = slack_runner(sqlite_store, slack_poster, clock)
    await runner.run_once()
    clock.now = FIRE + timedelta(seconds=1)
    await runner.run_once()
    await runner.run_once()
    [main] = top_level(slack)
    [shared] = slack.shared_files()
    assert (shared["channel"], shared["thread_ts"]) == ("C0SUPPORT", main["ts"])
    assert shared["name"] == "support-report-2025-W17.png"
    assert decode(shared["content"]).size[0] > 0
    [row] = runner.deliveries.all()
    assert row.status == "posted"
    report = runner.service.build_report(runner.schedules["weekly"].period_at(FIRE))
    assert shared["content"] == render_chart(report)
    [get_url] = slack.calls("files.getUploadURLExternal")
    assert int(get_url.body["length"]) == len(shared["content"])
    [thread_file] = [m for m in slack.posted("C0SUPPORT") if m.get("files")]
    assert thread_file["thread_ts"] == main["ts"]


async def test_crash_between_message_and_chart_still_gets_the_chart_up_once(
    slack: FakeSlack, slack_poster: SlackReportPoster, sqlite_store: SQLAlchemyTicketStore
) -> None:
    """The message went out but its sender never heard back: the retry finds the message,
    posts no second one, uploads the chart once; resuming again uploads nothing more."""
    clock = Clock(FIRE - timedelta(minutes=5))
    runner = slack_runner(sqlite_store, slack_poster, clock)
    await runner.run_once()

    def drop_the_answer(call: object) -> None:
        slack.on_message = None
        raise ConnectionResetError("the replica died here")

    slack.on_message = drop_the_answer
    clock.now = FIRE + timedelta(seconds=1)
    await runner.run_once()
    [row] = runner.deliveries.all()
    assert row.status == "pending"
    assert len(top_level(slack)) == 1
    assert slack.shared_files() == []  # the chart never went up
    clock.now += timedelta(seconds=10)
    await runner.run_once()
    [row] = runner.deliveries.all()
    assert (row.status, row.attempts) == ("posted", 2)
    [main] = top_level(slack)
    assert row.message_id == f"C0SUPPORT/{main['ts']}"
    [shared] = slack.shared_files()
    assert shared["thread_ts"] == main["ts"]
    assert slack.calls("conversations.replies")
    assert row.payload is not None
    await slack_poster.resume("C0SUPPORT", row.payload, row.message_id)  # a replayed claim
    assert len(slack.shared_files()) == 1
    assert len(top_level(slack)) == 1


@pytest.mark.parametrize("how", ["reply_refused_for_now", "reply_answer_lost"])
async def test_trouble_after_the_main_message_still_posts_every_reply_once(
    slack: FakeSlack, slack_poster: SlackReportPoster, sqlite_store: SQLAlchemyTicketStore, how: str
) -> None:
    """The main message went out, then its first thread reply met a 503 (never posted) or
    its answer was lost (posted, never told): the retry posts what the thread lacks, replies
    and chart, each once and in order, and posts no second report."""
    clock = Clock(FIRE - timedelta(minutes=5))
    runner = slack_runner(sqlite_store, slack_poster, clock)
    await runner.run_once()
    sent: list[object] = []

    def trouble(call: object) -> None:
        sent.append(call)
        if how == "reply_refused_for_now" and len(sent) == 1:
            slack.on_message = None
            slack.fail("chat.postMessage", status=503)  # the next one: the first reply
        elif how == "reply_answer_lost" and len(sent) == 2:
            slack.on_message = None
            raise ConnectionResetError("the replica lost Slack here")

    slack.on_message = trouble
    clock.now = FIRE + timedelta(seconds=1)
    await runner.run_once()
    [row] = runner.deliveries.all()
    assert row.status == "pending"
    [main] = top_level(slack)
    assert len(thread_replies(slack, main["ts"])) == (how == "reply_answer_lost")
    assert slack.shared_files() == []
    clock.now += timedelta(minutes=1)
    await runner.run_once()
    [row] = runner.deliveries.all()
    assert (row.status, row.attempts) == ("posted", 2)
    assert len(top_level(slack)) == 1
    assert row.payload is not None
    expected = json.loads(row.payload)["thread"]
    replies = thread_replies(slack, main["ts"])
    assert [r["text"] for r in replies] == [p["text"] for p in expected]
    assert [r["metadata"]["event_payload"]["part"] for r in replies] == list(range(len(expected)))
    assert len(slack.shared_files()) == 1
    await slack_poster.resume("C0SUPPORT", row.payload, row.message_id or "")  # replayed
    assert len(thread_replies(slack, main["ts"])) == len(expected)
    assert len(slack.shared_files()) == 1


def thread_replies(slack: FakeSlack, ts: str) -> list[dict[str, Any]]:
    """The report's text replies in its thread (the chart's file message left out)."""
    return [
        m
        for m in slack.posted("C0SUPPORT")
        if m.get("thread_ts") == ts and m["ts"] != ts and not m.get("files")
    ]


async def test_a_refused_upload_leaves_the_report_posted(
    slack: FakeSlack, slack_poster: SlackReportPoster, sqlite_store: SQLAlchemyTicketStore
) -> None:
    """Slack refusing the file is one log line; the report message stands and is recorded."""
    clock = Clock(FIRE - timedelta(minutes=5))
    runner = slack_runner(sqlite_store, slack_poster, clock)
    await runner.run_once()
    slack.fail("files.completeUploadExternal", error="missing_scope")
    clock.now = FIRE + timedelta(seconds=1)
    with capture_logs() as logs:
        await runner.run_once()
    [row] = runner.deliveries.all()
    assert row.status == "posted"
    assert len(top_level(slack)) == 1
    assert slack.shared_files() == []
    [failed] = [e for e in logs if e["event"] == "slack_file_upload_failed"]
    assert failed["error"] == "missing_scope"
    assert TOKEN not in json.dumps(logs, default=str)


# -- Discord ---------------------------------------------------------------------------------


@pytest.fixture
def discord_fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


@pytest_asyncio.fixture
async def discord_bot(
    discord_fake: FakeDiscord, service: ReportService
) -> AsyncIterator[DiscordBot]:
    """The Discord bot with charts on, connected to the fake."""
    bot = DiscordBot(
        token=DISCORD_TOKEN,
        deps=DiscordDeps.for_service(service, chart=render_chart),
        api_url=discord_fake.api_url,
        guild_ready_timeout=0.05,
    )
    await bot.start()
    await bot.wait_ready(timeout=10)
    yield bot
    await bot.stop()


def test_embed_points_at_the_attachment_only_when_there_is_one() -> None:
    """With an image name the first embed shows attachment://chart.png; without, no image."""
    report = report_of(week_tickets())
    plain = render_discord_message(report)
    assert "attachments" not in plain
    assert all("image" not in e for e in plain["embeds"])
    shown = render_discord_message(report, image="chart.png")
    assert shown["embeds"][0]["image"] == {"url": "attachment://chart.png"}
    assert shown["attachments"] == [{"id": 0, "filename": "chart.png"}]
    assert all("image" not in e for e in shown["embeds"][1:])


async def test_scheduled_discord_post_carries_the_chart(
    discord_fake: FakeDiscord, discord_bot: DiscordBot, service: ReportService
) -> None:
    """One multipart message: payload_json with the embeds and files[0], the chart's PNG."""
    poster = discord_bot.scheduled_poster(5)
    report = service.build_report(WEEK)
    payload = poster.render(report)
    await poster.post(CHANNEL_ID, payload, "weekly/discord:1/2025-04-28T09:00:00Z")
    [call] = discord_fake.calls("POST /channels/{id}/messages")
    assert call.headers["content-type"].startswith("multipart/form-data")
    assert call.files["files[0]"] == render_chart(report)
    assert call.body["attachments"] == [{"id": 0, "filename": "chart.png"}]
    assert call.body["embeds"][0]["image"] == {"url": "attachment://chart.png"}
    [message] = discord_fake.posted(CHANNEL_ID)
    [attachment] = message["attachments"]
    assert attachment["filename"] == "chart.png"
    decode(discord_fake.attachment(attachment["id"]))


async def test_command_answer_carries_the_chart(
    discord_fake: FakeDiscord, discord_bot: DiscordBot
) -> None:
    """`/support-report 2025-W17` is followed up with the embeds and chart.png."""
    discord_fake.dispatch(
        "INTERACTION_CREATE", discord_fake.interaction(options={"request": "2025-W17"})
    )
    [followup] = await discord_fake.wait_for("POST /webhooks/{app}/{token}")
    assert followup.body["embeds"][0]["image"]["url"] == "attachment://chart.png"
    assert [a["filename"] for a in followup.body["attachments"]] == ["chart.png"]
    decode(followup.files["files[0]"])
