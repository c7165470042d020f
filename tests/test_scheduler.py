"""Scheduled posts through the real Slack client and the fake Slack API, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from chatbot.app import build_app, build_slack
from chatbot.config import load_settings
from chatbot.delivery.slack.scheduled import SlackReportPoster
from chatbot.scheduling.runner import DeliveryRunner, RunnerOptions
from chatbot.scheduling.schedules import parse_schedules
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore
from chatbot.store.deliveries import SQLAlchemyDeliveryLog
from tests.factories import TEAM, Clock, comment, ticket
from tests.fakes.slack_api import TOKEN, FakeSlack

SCHEDULES = """
[[schedules]]
name = "hourly"
cron = "0 * * * *"
period = "yesterday"
targets = ["slack:#support", "slack:C0OTHER"]
"""
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest_asyncio.fixture
async def poster(fake: FakeSlack, db_url: str) -> AsyncIterator[SlackReportPoster]:
    """The Slack poster as `chatbot serve` builds it, pointed at the fake."""
    settings = load_settings(
        None,
        database_url=db_url,
        slack_bot_token=TOKEN,
        slack_signing_secret="s",
        slack_api_url=fake.api_url,
    )
    bot = build_slack(build_app(settings, demo=False))
    assert bot is not None
    yield SlackReportPoster(bot.poster)


def runner_for(
    store: SQLAlchemyTicketStore,
    poster: SlackReportPoster,
    clock: Clock,
    worker: str = "w1",
    text: str = SCHEDULES,
    **options: object,
) -> DeliveryRunner:
    store.save_tickets(
        [
            ticket(
                1,
                (START - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
                comments=(comment((START - timedelta(hours=20)).strftime("%Y-%m-%d %H:%M"), TEAM),),
            ),
        ]
    )
    return DeliveryRunner(
        deliveries=SQLAlchemyDeliveryLog(store.engine),
        service=ReportService(store, clock=clock),
        schedules=parse_schedules(text, clock.now),
        posters={"slack": poster},
        options=RunnerOptions(lease=timedelta(seconds=30), **options),  # type: ignore[arg-type]
        worker=worker,
        clock=clock,
    )


def keys_posted(fake: FakeSlack) -> list[str]:
    """The delivery keys of every main message that reached a channel of the fake."""
    keys = []
    with fake.state.lock:
        messages = [m for channel in fake.state.messages.values() for m in channel]
    for message in messages:
        metadata = message.get("metadata")
        if metadata and message.get("thread_ts", message["ts"]) == message["ts"]:
            assert metadata["event_type"] == "support_report"
            keys.append(metadata["event_payload"]["delivery_key"])
        elif metadata:  # a thread reply of a report: its index only
            assert metadata["event_type"] == "support_report_part"
    return keys


async def test_posts_each_firing_once_with_its_key(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A due firing goes to every target once, tagged with its key; later ticks add nothing."""
    clock = Clock(START)
    runner = runner_for(store, poster, clock)
    await runner.run_once()  # a new schedule starts now
    clock.now = START + timedelta(hours=1, seconds=1)
    await runner.run_once()
    await runner.run_once()
    fire = (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sorted(keys_posted(fake)) == [
        f"hourly/slack:#support/{fire}",
        f"hourly/slack:C0OTHER/{fire}",
    ]
    channels = {c.body["channel"] for c in fake.calls("chat.postMessage")}
    assert channels == {"C0SUPPORT", "C0OTHER"}  # #support resolved to its id
    assert {d.status for d in runner.deliveries.all()} == {"posted"}


async def test_retry_finds_a_post_that_went_through(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A replica that died between posting and recording it is not followed by a second post."""
    clock = Clock(START)
    dying = runner_for(store, poster, clock, worker="dying")
    await dying.run_once()
    clock.now = START + timedelta(hours=1, seconds=1)
    dying.plan(clock.now)
    for delivery in dying.deliveries.claim("dying", clock.now, timedelta(seconds=30)):
        payload = poster.render(
            dying.service.build_report(dying.schedules["hourly"].period_at(delivery.fire_time))
        )
        await poster.post(delivery.target.split(":", 1)[1], payload, delivery.key)
        # ... and the process is killed here, before mark_posted
    assert len(keys_posted(fake)) == 2
    clock.now += timedelta(seconds=31)  # the lease runs out
    survivor = runner_for(store, poster, clock, worker="survivor")
    taken = await survivor.run_once()
    assert [d.attempts for d in taken] == [2, 2]
    assert len(keys_posted(fake)) == 2
    assert fake.calls("conversations.history")
    rows = survivor.deliveries.all()
    assert {r.status for r in rows} == {"posted"}
    assert all(r.message_id and r.message_id.split("/")[1] for r in rows)


async def test_rate_limit_gives_the_row_back_until_retry_after(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A 429 is not waited out holding the claim: the row waits for Retry-After, then posts."""
    clock = Clock(START)
    runner = runner_for(store, poster, clock)
    await runner.run_once()
    fake.fail("chat.postMessage", status=429, retry_after=30)
    clock.now = START + timedelta(hours=1, seconds=1)
    await runner.run_once()  # returns at once, not 30 s later
    [waiting] = [d for d in runner.deliveries.all() if d.status == "pending"]
    assert (waiting.error, waiting.claimed_by) == ("ratelimited", None)
    clock.now += timedelta(seconds=29)
    await runner.run_once()
    assert [d.status for d in runner.deliveries.all()].count("pending") == 1
    clock.now += timedelta(seconds=2)
    await runner.run_once()
    assert {d.status for d in runner.deliveries.all()} == {"posted"}
    assert sorted(keys_posted(fake)) == sorted({d.key for d in runner.deliveries.all()})


async def test_rate_limit_longer_than_the_lease_posts_once(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A replica rate limited past its lease does not post after another one took the row over."""
    text = SCHEDULES.replace(
        'targets = ["slack:#support", "slack:C0OTHER"]', 'targets = ["slack:C0OTHER"]'
    )
    clock = Clock(START)
    first = runner_for(store, poster, clock, worker="first", text=text)
    second = runner_for(store, poster, clock, worker="second", text=text)
    await first.run_once()
    fake.fail("chat.postMessage", status=429, retry_after=1)
    # The first post is in flight, its 429 not yet answered, until the second worker is done:
    # otherwise the first worker's give-back races the second one's claim (under SKIP LOCKED on
    # PostgreSQL, the claim skips a row being given back and this tick finds nothing).
    answer_first = fake.hold("chat.postMessage")
    clock.now = START + timedelta(hours=1, seconds=1)
    slow = asyncio.create_task(first.run_once())
    await fake.wait_for("chat.postMessage", 1)  # the first post has arrived
    clock.now += timedelta(seconds=31)  # the first worker's lease has run out
    await second.run_once()
    answer_first.set()  # the 429 reaches the first worker only now
    await slow
    [row] = second.deliveries.all()
    assert (row.status, row.claimed_by) == ("posted", "second")
    assert keys_posted(fake) == [row.key]


async def test_server_error_backs_off_then_posts(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A 5xx sends the row back with a back-off; the next try checks the channel, then posts."""
    clock = Clock(START)
    runner = runner_for(store, poster, clock, backoff=timedelta(seconds=10))
    await runner.run_once()
    fake.fail("chat.postMessage", status=503, times=1)
    clock.now = START + timedelta(hours=1, seconds=1)
    await runner.run_once()
    statuses = sorted(d.status for d in runner.deliveries.all())
    assert statuses == ["pending", "posted"]
    [waiting] = [d for d in runner.deliveries.all() if d.status == "pending"]
    assert waiting.error == "HTTP 503"
    clock.now += timedelta(seconds=5)
    await runner.run_once()
    assert [d.status for d in runner.deliveries.all()].count("pending") == 1  # still backing off
    clock.now += timedelta(seconds=6)
    await runner.run_once()
    assert {d.status for d in runner.deliveries.all()} == {"posted"}
    assert len(keys_posted(fake)) == 2


async def test_permanent_error_is_recorded(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """channel_not_found marks the row failed with the reason, and it is not retried."""
    clock = Clock(START)
    runner = runner_for(store, poster, clock)
    await runner.run_once()
    fake.fail("chat.postMessage", error="channel_not_found", times=1)
    clock.now = START + timedelta(hours=1, seconds=1)
    await runner.run_once()
    clock.now += timedelta(hours=0, minutes=5)
    await runner.run_once()
    failed = [d for d in runner.deliveries.all() if d.status == "failed"]
    assert [d.error for d in failed] == ["channel_not_found"]
    assert len(keys_posted(fake)) == 1


async def test_catch_up_after_downtime(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """Firings missed while down are posted within the catch-up window; older ones are skipped."""
    text = SCHEDULES.replace(
        'targets = ["slack:#support", "slack:C0OTHER"]', 'targets = ["slack:C0OTHER"]'
    )
    clock = Clock(START - timedelta(hours=10))
    runner = runner_for(store, poster, clock, text=text, catch_up=timedelta(hours=2, minutes=30))
    await runner.run_once()  # last seen ten hours before START
    clock.now = START + timedelta(minutes=1)  # every replica was down since
    await runner.run_once()
    rows = runner.deliveries.all()
    assert [r.status for r in rows] == ["skipped"] * 7 + ["posted"] * 3
    assert len(keys_posted(fake)) == 3


async def test_removed_schedule_fails_clearly(
    store: SQLAlchemyTicketStore, poster: SlackReportPoster, fake: FakeSlack
) -> None:
    """A planned post whose schedule left the config fails with that reason, not silently."""
    clock = Clock(START)
    runner = runner_for(store, poster, clock)
    await runner.run_once()
    clock.now = START + timedelta(hours=1, seconds=1)
    runner.plan(clock.now)
    runner.schedules.clear()
    await runner.run_once()
    assert {d.error for d in runner.deliveries.all()} == {
        "schedule 'hourly' is no longer configured"
    }
    assert keys_posted(fake) == []
