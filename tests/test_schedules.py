"""Schedules: the TOML file, crontab semantics, time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatbot.scheduling.schedules import ScheduleError, load_schedules, parse_schedules
from tests.cli_runner import run_cli

GOOD = """
[[schedules]]
name = "daily-support"
cron = "0 9 * * 1-5"
timezone = "Europe/Berlin"
period = "yesterday"
targets = ["slack:#support", "slack:C0123ABCD"]

[[schedules]]
name = "weekly"
cron = "0 30 8 * * mon"
period = "last-week"
targets = ["slack:#support"]
"""
NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def one(body: str) -> str:
    return "[[schedules]]\n" + body


def test_reads_every_field() -> None:
    """Both schedules are read with their targets, time zone defaulting to UTC."""
    daily, weekly = parse_schedules(GOOD, NOW)
    assert daily.name == "daily-support"
    assert [str(t) for t in daily.targets] == ["slack:#support", "slack:C0123ABCD"]
    assert weekly.timezone == "UTC"


def test_weekdays_follow_crontab() -> None:
    """`1-5` is Monday to Friday, as in crontab, at 09:00 Berlin time."""
    daily = parse_schedules(GOOD, NOW)[0]
    fires = daily.fire_times(NOW, NOW + timedelta(days=7))
    local = [f.astimezone(daily.trigger.timezone) for f in fires]
    assert [f.strftime("%a %H:%M") for f in local] == [
        "Thu 09:00",
        "Fri 09:00",
        "Mon 09:00",
        "Tue 09:00",
        "Wed 09:00",
    ]


def test_six_fields_have_seconds_first() -> None:
    """Six fields put seconds first: the weekly fires Mondays at 08:30:00 UTC."""
    weekly = parse_schedules(GOOD, NOW)[1]
    assert weekly.next_fire_time(NOW) == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)


def test_sunday_as_zero_and_seven() -> None:
    """Day 0 and day 7 are both Sunday."""
    for day in ("0", "7"):
        [s] = parse_schedules(
            one(f'name="s"\ncron="0 9 * * {day}"\nperiod="today"\ntargets=["slack:#x"]'), NOW
        )
        assert s.next_fire_time(NOW) == datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


def test_spring_forward_fires_once_at_the_new_offset() -> None:
    """When Berlin skips 02:00-03:00, a 09:00 schedule fires at 09:00 local (07:00 UTC)."""
    daily = parse_schedules(GOOD.replace("1-5", "*"), NOW)[0]
    fires = daily.fire_times(
        datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC)
    )
    assert fires == [
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
    ]


def test_fall_back_repeated_hour_fires_once() -> None:
    """When Berlin repeats 02:00-03:00, a 02:30 schedule fires once that night."""
    [s] = parse_schedules(
        one(
            'name="n"\ncron="30 2 * * *"\ntimezone="Europe/Berlin"\n'
            'period="yesterday"\ntargets=["slack:#x"]'
        ),
        NOW,
    )
    fires = s.fire_times(
        datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 26, 12, tzinfo=UTC)
    )
    assert len(fires) == 2
    assert fires[0].date().isoformat() == "2026-10-25"


def test_period_resolved_at_fire_time_in_schedule_zone() -> None:
    """`yesterday` is the day before the fire time, in the schedule's zone."""
    daily = parse_schedules(GOOD, NOW)[0]
    period = daily.period_at(
        datetime(2026, 3, 26, 23, 30, tzinfo=UTC)
    )  # 00:30 on the 27th in Berlin
    assert period.start.isoformat() == "2026-03-26"
    assert period.tz == "Europe/Berlin"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'name="a"\ncron="0 9 * *"\nperiod="today"\ntargets=["slack:#x"]',
            "schedule 'a': cron '0 9 * *': needs 5 fields",
        ),
        ('name="a"\ncron="0 25 * * *"\nperiod="today"\ntargets=["slack:#x"]', "schedule 'a': cron"),
        (
            'name="a"\ncron="0 9 * * *"\nperiod="fortnight"\ntargets=["slack:#x"]',
            "schedule 'a': period: 'fortnight' is not a period",
        ),
        (
            'name="a"\ncron="0 9 * * *"\ntimezone="Mars/Base"\nperiod="today"\n'
            'targets=["slack:#x"]',
            "schedule 'a': timezone: unknown time zone 'Mars/Base'",
        ),
        (
            'name="a"\ncron="0 9 * * *"\nperiod="today"\ntargets=["teams:#x"]',
            "schedule 'a': targets: 'teams:#x': no platform 'teams'; this bot posts to slack",
        ),
        ('name="a"\ncron="0 9 * * *"\nperiod="today"\ntargets=[]', "schedule 'a': targets must be"),
        (
            'name="a"\ncron="0 9 * * *"\nperiod="today"\ntargets=["slack:#x"]\nchanel="x"',
            "schedule 'a': unknown field(s): chanel",
        ),
        ('cron="0 9 * * *"\nperiod="today"\ntargets=["slack:#x"]', "schedules #1: name must be"),
    ],
)
def test_bad_schedule_names_schedule_and_field(body: str, message: str) -> None:
    """A bad schedule gets one message naming the schedule and the field."""
    with pytest.raises(ScheduleError) as caught:
        parse_schedules(one(body), NOW, platforms=("slack",))
    assert message in str(caught.value)


def test_a_target_on_a_platform_the_bot_lacks_is_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``chatbot schedules`` (and serve's start) refuse a ``teams:`` target at once."""
    config = tmp_path / "chatbot.toml"
    config.write_text(one('name="a"\ncron="0 9 * * *"\nperiod="today"\ntargets=["teams:123"]'))
    monkeypatch.setenv("CHATBOT_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    code, _out, err = run_cli(capsys, "schedules")
    assert code == 2
    assert "'teams:123': no platform 'teams'; this bot posts to discord, slack" in err


def test_duplicate_names_refused() -> None:
    """Names are part of the delivery key, so they must be unique."""
    text = GOOD.replace('name = "weekly"', 'name = "daily-support"')
    with pytest.raises(ScheduleError, match="schedule 'daily-support': name: used twice"):
        parse_schedules(text, NOW)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    """Broken TOML is named with its file; a missing file means no schedules."""
    path = tmp_path / "chatbot.toml"
    assert load_schedules(path, NOW) == []
    path.write_text("[[schedules]\nname=")
    with pytest.raises(ScheduleError, match=r"chatbot\.toml: not valid TOML"):
        load_schedules(path, NOW)
