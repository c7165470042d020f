"""Questions to the bot: the grammar, the answers' renderers within every platform's limits,
and ``chatbot ask`` through the CLI."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.app import build_app
from chatbot.config import load_settings
from chatbot.core.answers import (
    Answer,
    ExplainAnswer,
    ReportPart,
    TrendAnswer,
    TrendPoint,
    WaitingAnswer,
)
from chatbot.core.errors import QuestionError, TicketReferenceError, UserInputError
from chatbot.core.grammar import Calendar, parse_mention, parse_period, parse_request
from chatbot.core.periods import Period
from chatbot.core.questions import QUESTIONS, parse_question
from chatbot.core.report import Activity, ScorePart, Waiting
from chatbot.core.schedule_requests import SCHEDULE_WORDS
from chatbot.render.answers_discord import render_answer_discord
from chatbot.render.answers_slack import render_answer_slack
from chatbot.render.answers_text import render_answer_text
from tests.cli_runner import run_cli
from tests.test_discord_embeds import assert_defused as assert_discord_defused
from tests.test_discord_embeds import assert_within_limits as assert_discord_limits
from tests.test_slack_blocks import HOSTILE, _figures, _ref, make_report
from tests.test_slack_blocks import assert_defused as assert_slack_defused
from tests.test_slack_blocks import assert_within_limits as assert_slack_limits

CAL = Calendar(now=datetime(2025, 4, 23, 10, tzinfo=UTC))
PERIODS = ["yesterday", "last-week", "this-month", "last-14-days", "2025-03", "2025-Q1"]


def q(text: str, free: bool = False) -> Any:
    return parse_question(text, CAL, free_text=free)


# -- the grammar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "label"),
    [
        ("waiting", "waiting", None),
        ("explain #723", "explain", "last-7-days"),
        ("explain acme/support#723 last-month", "explain", "last-month"),
        ("top labels", "labels", "last-week"),
        ("top labels this-month", "labels", "this-month"),
        ("labels for last month", "labels", "last-month"),
        ("themes yesterday", "themes", "yesterday"),
        ("trend", "trend", "last-week"),
        ("trend last-month", "trend", "last-month"),
        ("help", "help", None),
        ("", "help", None),
        ("last-week", "report", "last-week"),
    ],
)
def test_slash_text_parses_as_its_question(text: str, kind: str, label: str | None) -> None:
    """Each sub-command is its question, with its period or the documented default."""
    asked = q(text)
    assert asked.kind == kind
    assert (asked.period.label if asked.period else None) == label


@pytest.mark.parametrize(
    ("text", "kind", "label"),
    [
        ("<@U0BOT> what is waiting on us?", "waiting", None),
        ("which tickets are unanswered?", "waiting", None),
        ("top labels this month", "labels", "this-month"),
        ("explain #723", "explain", "last-7-days"),
        ("please explain acme/support#723 for last month", "explain", "last-month"),
        ("how is the trend for last month?", "trend", "last-month"),
        ("what are the common issues?", "themes", "last-week"),
        ("report for last week", "report", "last-week"),
        ("hello there", "help", None),
        ("may I have a report?", "help", None),
    ],
)
def test_mention_words_parse_as_their_question(text: str, kind: str, label: str | None) -> None:
    """Free words find the question and its period, or else fall back to help."""
    asked = q(text, free=True)
    assert asked.kind == kind
    assert (asked.period.label if asked.period else None) == label


def test_explain_keeps_the_ticket_as_typed() -> None:
    """The ticket reference keeps its case (owner/name are GitHub's spelling)."""
    assert q("explain Acme/Support#7").ticket == "Acme/Support#7"
    assert q("can you explain Acme/Support#7?", free=True).ticket == "Acme/Support#7"


@pytest.mark.parametrize("free", [False, True])
@pytest.mark.parametrize("word", SCHEDULE_WORDS)
def test_schedule_words_are_reserved(word: str, free: bool) -> None:
    """`schedule…` words are their own kind, with the text kept: never help nor a report."""
    asked = q(f"{word} daily last-week #support", free)
    assert asked.kind == "schedule"
    assert asked.text.endswith("daily last-week #support")


@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("explain", QuestionError, "'explain' needs a ticket"),
        ("explain yesterday", TicketReferenceError, "is not a ticket"),
        ("waiting last-week", QuestionError, "takes no period"),
        ("trend fortnight", UserInputError, "'fortnight' is not a period"),
        ("top labels Q5 2025", UserInputError, "Q5 is not a quarter"),
    ],
)
def test_a_wrong_question_gets_one_line_naming_the_fix(
    text: str, error: type[Exception], says: str
) -> None:
    """Bad input is one line saying what was wrong and what is accepted."""
    with pytest.raises(error) as raised:
        q(text)
    message = str(raised.value)
    assert says in message
    assert "\n" not in message
    assert "Accepted:" in message or "Ask:" in message or "use 123" in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("trend fortnight", "'fortnight' is not a period"),
        ("themes this fortnight please", "'fortnight' is not week, month, quarter or year"),
        ("top labels for the last 500 days", "N must be 1 to 366"),
    ],
)
def test_a_mention_worded_as_a_sub_command_names_a_wrong_period(text: str, says: str) -> None:
    """ "@bot trend fortnight" says the period is wrong instead of answering another one."""
    with pytest.raises(UserInputError, match=re.escape(says)):
        q(text, free=True)


@pytest.mark.parametrize("text", ["trend?", "trend please", "top labels, thanks!"])
def test_filler_after_a_question_keeps_its_default_period(text: str) -> None:
    """Polite words after the question are not a period: the default applies."""
    assert q(text, free=True).period == parse_period("last-week", CAL)


@given(
    st.sampled_from(["", "trend ", "themes ", "top labels ", "explain ", "waiting ", "schedule "]),
    st.text(max_size=300),
)
def test_parse_question_raises_only_user_input_errors(lead: str, text: str) -> None:
    """Whatever is typed, the parser answers or raises a UserInputError, nothing else."""
    for free in (False, True):
        with contextlib.suppress(UserInputError):
            parse_question(lead + text, CAL, free_text=free)


@given(
    st.sampled_from(["top labels", "themes", "trend"]),
    st.sampled_from(PERIODS),
    st.booleans(),
)
def test_question_word_and_period_parse_as_that_question(
    word: str, period: str, free: bool
) -> None:
    """A question word followed by a period is that question, over that period."""
    asked = parse_question(f"{word} {period}", CAL, free_text=free)
    assert asked.kind == {"top labels": "labels", "themes": "themes", "trend": "trend"}[word]
    assert asked.period == parse_period(period, CAL)


@given(st.sampled_from(PERIODS), st.booleans())
def test_a_plain_period_stays_a_report_request(period: str, private: bool) -> None:
    """A period alone is the report exactly as parse_request and parse_mention read it."""
    text = f"{period} private" if private else period
    asked = q(text)
    assert (asked.kind, asked.period, asked.private) == (
        "report",
        parse_request(text, CAL).period,
        private,
    )
    assert q(f"report for {period}", free=True).period == parse_mention(f"for {period}", CAL).period


def test_ten_kilobytes_of_hostile_words_parse_quickly_to_help() -> None:
    """A 10 kB mention of mass mentions and markdown is help, not a crash."""
    asked = q(("<!channel> @everyone *_~`| " * 400)[:10_000], free=True)
    assert asked.kind == "help"


# -- the renderers ----------------------------------------------------------------------------


def _waiting(total: int) -> WaitingAnswer:
    listed = tuple(Waiting(ticket=_ref(n, HOSTILE * 20), hours=10.0 * n) for n in range(1, 51))
    return WaitingAnswer(
        as_of=CAL.now, tickets=listed[: min(total, 50)], total=total, repos=("acme/support",)
    )


def _trend() -> TrendAnswer:
    period = parse_period("last-week", CAL)
    points = []
    for i in range(4):
        points.append(TrendPoint(period=period, figures=_figures(10 + i)))
        period = period.previous()
    return TrendAnswer(points=tuple(reversed(points)))


def _explain() -> ExplainAnswer:
    activity = Activity(
        ticket=_ref(723, HOSTILE * 10),
        score=4.2,
        parts=(ScorePart(name="comments", count=3, weight=1.0),),
        recency=0.5,
        idle_days=2.0,
        comments=3,
        participants=2,
    )
    return ExplainAnswer(period=parse_period("last-7-days", CAL), activity=activity)


ANSWERS: dict[str, Answer] = {
    "waiting": _waiting(500),
    "explain": _explain(),
    "labels": ReportPart(part="labels", report=make_report()),
    "themes": ReportPart(part="themes", report=make_report()),
    "trend": _trend(),
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_hostile_answers_fit_slack_and_ping_no_one(name: str) -> None:
    """Every answer, from hostile ticket text, fits Block Kit and pings nobody on Slack."""
    rendered = {"main": render_answer_slack(ANSWERS[name]), "thread": []}
    assert_slack_limits(rendered)  # type: ignore[arg-type]
    assert_slack_defused(rendered)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_hostile_answers_fit_discord_and_ping_no_one(name: str) -> None:
    """Every answer, from hostile ticket text, fits Discord's limits and pings nobody."""
    message = render_answer_discord(ANSWERS[name])
    assert_discord_limits(message)
    # our tables of numbers are code blocks; the rest must hold no markdown at all
    for embed in message["embeds"]:
        if "description" in embed:
            embed["description"] = re.sub(r"```\n[^`]*```", "", embed["description"])
    assert_discord_defused(message)


def test_a_long_waiting_list_says_how_many_more() -> None:
    """500 waiting tickets show the oldest and "… and N more", N counting the rest."""
    slack = json.dumps(render_answer_slack(_waiting(500)), ensure_ascii=False)
    discord = json.dumps(render_answer_discord(_waiting(500)), ensure_ascii=False)
    text = render_answer_text(_waiting(500))
    for rendered in (slack, discord, text):
        shown = rendered.count("waiting ")
        assert f"… and {500 - shown} more" in rendered
    assert "(500)" in slack


def test_trend_shows_four_periods_oldest_first() -> None:
    """The trend table has one column per period, oldest first, and every figure's row."""
    lines = render_answer_text(_trend()).splitlines()
    heads = lines[1]
    order = ["Mar 24–30", "Mar 31–Apr 6", "Apr 7–13", "Apr 14–20"]
    assert [heads.index(h) for h in order] == sorted(heads.index(h) for h in order)
    received = next(line for line in lines if line.startswith("Received"))
    assert received.split()[1:] == ["13", "12", "11", "10"]  # _trend() counts down from now
    assert len(lines) == 2 + 8


def test_help_names_every_question() -> None:
    """Slack's and Discord's help list every question and the period forms."""
    from chatbot.delivery.discord.messages import help_text as discord_help
    from chatbot.delivery.slack.messages import help_text as slack_help

    for text in (slack_help(), discord_help()):
        for question in QUESTIONS:
            assert f"`{question}`" in text
        assert "`since monday`" in text
        assert len(text) < 2000


# -- chatbot ask ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ask_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with the demo tickets, loaded once for the module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ask') / 'demo.db'}"
    build_app(load_settings(None, database_url=url)).store.engine.dispose()
    return url


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, ask_db: str) -> None:
    """`chatbot` reads the demo store (questions only read it)."""
    monkeypatch.setenv("DATABASE_URL", ask_db)
    monkeypatch.setenv("LOG_FORMAT", "json")


@pytest.mark.usefixtures("demo_env")
def test_ask_what_is_waiting(capsys: pytest.CaptureFixture[str]) -> None:
    """`chatbot ask "what is waiting on us?"` lists the waiting tickets, oldest first."""
    code, out, err = run_cli(capsys, "ask", "what is waiting on us?")
    assert code == 0, err
    head, *rows = out.splitlines()
    assert head.startswith("Waiting for a first reply now (")
    waited = [float(r.split("waiting ")[1].split()[0]) for r in rows if "waiting " in r]
    units = [r.split("waiting ")[1].split()[1] for r in rows if "waiting " in r]
    assert waited
    assert units[0] == "days"
    per_day = {"days": 1, "h": 1 / 24, "min": 1 / 1440}
    days = [w * per_day[u] for w, u in zip(waited, units, strict=True)]
    assert days == sorted(days, reverse=True)


@pytest.mark.usefixtures("demo_env")
@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("top labels this month", "Top labels: "),
        ("themes last week", "Common issues: "),
        ("trend last-month", "Trend: 4 periods up to "),
        ("help", "Questions: waiting"),
    ],
)
def test_ask_answers_each_question(
    capsys: pytest.CaptureFixture[str], question: str, first: str
) -> None:
    """Each question is answered on stdout, headed by what it is."""
    code, out, err = run_cli(capsys, "ask", question)
    assert code == 0, err
    assert out.startswith(first)


@pytest.mark.usefixtures("demo_env")
def test_ask_explain_matches_chatbot_explain(capsys: pytest.CaptureFixture[str]) -> None:
    """`ask "explain N"` prints what `chatbot explain N` prints."""
    code, out, _ = run_cli(capsys, "ask", "what is waiting on us?")
    number = out.splitlines()[1].split()[0].split("#")[1]
    code, asked, err = run_cli(capsys, "ask", f"explain #{number}")
    assert code == 0, err
    _, explained, _ = run_cli(capsys, "explain", number)
    assert asked == explained


@pytest.mark.usefixtures("demo_env")
def test_ask_about_an_unknown_ticket_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown ticket exits 2 with one line naming it."""
    code, out, err = run_cli(capsys, "ask", "explain #999999999")
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        "error: No ticket #999999999 in the store; run `chatbot sync` or check the number"
    ]


def test_period_default_is_documented() -> None:
    """The defaults the help text names are those the parser uses."""
    assert q("themes").period == parse_period("last-week", CAL)
    assert q("explain 1").period == parse_period("last-7-days", CAL)
    assert isinstance(q("trend").period, Period)
    assert date(2025, 4, 14) == q("trend").period.start
    assert timedelta(days=6) == q("trend").period.end - q("trend").period.start
