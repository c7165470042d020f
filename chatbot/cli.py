"""The ``chatbot`` command: parses arguments and calls the composition root (``chatbot.app``).

Exit status: 0 on success, 1 when something unexpected failed (logged with its traceback),
2 when the input or the configuration was wrong (one short line says what and how to fix it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from chatbot.app import App, build_app, github_config, schedules_for
from chatbot.config import Settings, load_settings
from chatbot.core.errors import ConfigError, DemoRefused, SupportReportError, UserInputError
from chatbot.core.grammar import ACCEPTED, parse_period
from chatbot.core.periods import Period, utc_now
from chatbot.core.questions import DEFAULT_PERIOD, EXPLAIN_PERIOD, QUESTIONS
from chatbot.core.report import Report
from chatbot.lazylog import get_logger
from chatbot.logs import configure_logging
from chatbot.render import render_json, render_markdown
from chatbot.sources.demo import DEMO_META_KEY, load_demo

log = get_logger(__name__)

_ASK_HELP = (
    f"Questions: {', '.join(QUESTIONS)} (without a period: {DEFAULT_PERIOD};"
    f" explain: {EXPLAIN_PERIOD}); or a period for its report.\n"
    f"Periods: {', '.join(ACCEPTED)}."
)


class ChatbotGroup(click.Group):
    """A group whose help ends with where the data lives."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        try:
            settings = load_settings()
            lines = [
                f"Database: {settings.database_location()}  (set DATABASE_URL to change)",
                f"Reports:  {settings.reports_dir.resolve()}  (REPORTS_DIR)",
            ]
        except ConfigError as exc:
            lines = [f"Warning: {exc}"]
        formatter.write_paragraph()
        for line in lines:
            formatter.write(f"  {line}\n")


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj if isinstance(ctx.obj, Settings) else load_settings()
    ctx.obj = settings
    return settings


def _app(ctx: click.Context) -> App:
    return build_app(_settings(ctx))


@click.group(cls=ChatbotGroup)
@click.version_option(package_name="support-report")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Support reports from GitHub issues, for Slack, Discord and files."""
    settings = _settings(ctx)
    configure_logging(settings.log_level or "warning", settings.log_format)


@cli.command(
    help="Build the report of PERIOD, print it, and write it under reports/.\n\n"
    f"PERIOD is one of: {', '.join(ACCEPTED)}."
)
@click.argument("period", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "slack", "discord"]),
    default="markdown",
    show_default=True,
    help="What to print on stdout.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the files to [default: REPORTS_DIR, ./reports].",
)
@click.option("--no-files", is_flag=True, help="Print only; write no files.")
@click.pass_context
def report(
    ctx: click.Context, period: tuple[str, ...], fmt: str, out: Path | None, no_files: bool
) -> None:
    """Build the report of PERIOD (the forms of ``grammar.ACCEPTED``, listed by ``--help``)."""
    app = _app(ctx)
    chosen = parse_period(" ".join(period), app.service.calendar())
    if no_files:
        built = app.service.build_report(chosen)
    else:
        from chatbot.delivery.files import write_period

        written = write_period(app.service, chosen, out or app.settings.reports_dir)
        built = written[-1].report
        for done in written:
            chart = f", {done.chart.name}" if done.chart else ""
            click.echo(f"wrote {done.markdown} and {done.json.name}{chart}", err=True)
    if fmt == "slack":
        from chatbot.render.slack_blocks import render_slack_json

        click.echo(render_slack_json(built), nl=False)
        return
    if fmt == "discord":
        from chatbot.render.discord_embeds import render_discord_json

        click.echo(render_discord_json(built), nl=False)
        return
    click.echo(render_json(built) if fmt == "json" else render_markdown(built), nl=False)


@cli.command()
@click.argument("ticket")
@click.argument("period", nargs=-1)
@click.pass_context
def explain(ctx: click.Context, ticket: str, period: tuple[str, ...]) -> None:
    """Show how TICKET's activity level in PERIOD (default last-7-days) adds up.

    TICKET is a number (123) or owner/name#123 when the store holds several repositories.
    """
    app = _app(ctx)
    chosen = parse_period(" ".join(period) or "last-7-days", app.service.calendar())
    activity = app.service.explain(ticket, chosen)
    ref = activity.ticket
    click.echo(f"{ref.reference}: {ref.title} ({ref.state})")
    click.echo(f"period: {chosen.describe()}")
    from chatbot.render.answers_text import explain_table

    for line in explain_table(activity):
        click.echo(line)


@cli.command()
@click.argument("question", nargs=-1, required=True)
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...]) -> None:
    """Ask what the bot answers in chat: "what is waiting on us?", "explain #723",
    "top labels this month", "themes", "trend last-month", "help".

    A period alone ("last week") prints that week's report as Markdown, like `chatbot report`.
    """
    import asyncio

    from chatbot.core.questions import parse_question
    from chatbot.render.answers_text import render_answer_text
    from chatbot.service import answer_question

    app = _app(ctx)
    service = app.service
    asked = parse_question(" ".join(question), service.calendar(), free_text=True)
    if asked.kind == "schedule":
        click.echo(
            "Schedules are set in CHATBOT_CONFIG or from the chat (/support-report schedule …);"
            " `chatbot schedules` lists them."
        )
        return
    if asked.kind == "help":
        click.echo(_ASK_HELP)
        return
    if asked.kind == "report" and asked.period is not None:
        click.echo(render_markdown(service.build_report(asked.period)), nl=False)
        return

    async def build(period: Period) -> Report:
        return service.build_report(period)

    answer = asyncio.run(answer_question(service, build, asked))
    click.echo(render_answer_text(answer), nl=False)


@cli.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, file: Path) -> None:
    """Load GitHub REST issue objects from FILE (JSON Lines; comments under x_comments)."""
    from chatbot.sources.jsonl_import import import_file

    app = build_app(_settings(ctx), demo=False)
    result = import_file(file, app.store)
    for error in result.errors:
        click.echo(f"{file}:{error}", err=True)
    click.echo(
        f"imported {result.saved.new} new and {result.saved.updated} updated tickets,"
        f" {result.saved.comments} comments; skipped {result.pull_requests} pull requests;"
        f" {len(result.errors)} bad lines"
    )
    if result.errors:
        ctx.exit(1)


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the bundled demo tickets, rebased to now, into a store without real tickets."""
    app = build_app(_settings(ctx), demo=False)
    try:
        count = load_demo(app.store, utc_now(), app.settings.tz)
    except DemoRefused:
        raise DemoRefused(app.settings.database_location()) from None
    click.echo(f"loaded {count} demo tickets into {app.settings.database_location()}")


@cli.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Show where the data lives and what the store holds."""
    settings = _settings(ctx)
    app = build_app(settings)
    demo_at = app.store.get_meta(DEMO_META_KEY)
    click.echo(f"database:   {settings.database_location()}")
    click.echo(f"reports:    {settings.reports_dir.resolve()}")
    click.echo(f"time zone:  {settings.tz}, weeks start on {settings.week_start}")
    click.echo(f"tickets:    {app.store.count_tickets()} in {', '.join(app.store.repos()) or '-'}")
    click.echo(f"demo data:  {'loaded ' + demo_at if demo_at else 'no'}")


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")  # noqa: S104
@click.option("--port", type=int, default=None, help="Port to listen on [default: PORT, 3000].")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int | None) -> None:
    """Run the bot until SIGTERM: Slack (HTTP on /slack/events or Socket Mode), /healthz,
    the scheduled posts of CHATBOT_CONFIG, and a periodic GitHub sync when GITHUB_REPOS is set.
    """
    import asyncio

    from chatbot.app import serve as serve_app

    settings = _settings(ctx)
    configure_logging(settings.log_level or "info", settings.log_format)
    asyncio.run(serve_app(_app(ctx), host=host, port=port))


@cli.command()
@click.pass_context
def schedules(ctx: click.Context) -> None:
    """List every schedule, of CHATBOT_CONFIG (file) and made in a chat, with next fire times."""
    from zoneinfo import ZoneInfo

    from chatbot.app import build_schedule_book

    settings = _settings(ctx)
    found = schedules_for(settings, utc_now())  # a bad file is refused before the store opens
    app = build_app(settings, demo=False)
    try:
        entries = build_schedule_book(app, found).all_entries()
    finally:
        app.store.engine.dispose()
    if not entries:
        click.echo(
            f"no schedules: {settings.chatbot_config} has none or does not exist, and none"
            " was made in a chat (/support-report schedule …)"
        )
        return
    for entry in entries:
        when = entry.next_fire.astimezone(ZoneInfo(entry.timezone)) if entry.next_fire else None
        by = f" by {entry.created_by}" if entry.created_by else ""
        click.echo(
            f"{entry.name} [{entry.source}{by}]: '{entry.cron}' {entry.timezone},"
            f" period {entry.period}, to {', '.join(entry.targets)};"
            f" next {when.isoformat() if when else 'never'}"
        )


@cli.command()
@click.option("--limit", type=click.IntRange(1, 10_000), default=30, show_default=True)
@click.option("--schedule", "schedule_name", default=None, help="Only this schedule.")
@click.pass_context
def deliveries(ctx: click.Context, limit: int, schedule_name: str | None) -> None:
    """Show the delivery log of scheduled posts, newest first."""
    app = build_app(_settings(ctx), demo=False)
    log_ = app.deliveries
    rows = log_.recent(limit, schedule_name)
    counts = log_.counts()
    click.echo(
        ", ".join(f"{status} {counts[status]}" for status in sorted(counts)) or "no deliveries"
    )
    for row in rows:
        extra = row.message_id if row.status == "posted" else (row.error or "")
        click.echo(
            f"{row.fire_time:%Y-%m-%d %H:%M:%S}Z  {row.status:<8} {row.schedule} -> {row.target}"
            f"  attempts {row.attempts}  {extra}".rstrip()
        )


@cli.command()
@click.option("--full", is_flag=True, help="Read every issue and comment again, not only changes.")
@click.option(
    "--wait", "wait_", is_flag=True, help="When the rate limit runs out, wait for its reset."
)
@click.option(
    "--throttle",
    type=click.FloatRange(min=0),
    default=0.25,
    show_default=True,
    help="Seconds between two requests; 0 sends them back to back.",
)
@click.option(
    "--retry-backoff",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds before retrying a 5xx answer, doubled on each retry.",
)
@click.pass_context
def sync(
    ctx: click.Context, full: bool, wait_: bool, throttle: float, retry_backoff: float
) -> None:
    """Fetch the issues and comments of GITHUB_REPOS into the store.

    Only what changed since the last sync is fetched. Exit status 3: the GitHub rate
    limit stopped the sync early; what was fetched is kept and the next sync goes on.
    """
    from chatbot.core.errors import SourceUnavailable
    from chatbot.sources.github import SyncOptions, sync_store
    from chatbot.sources.github.progress import sync_progress

    settings = _settings(ctx)
    if not settings.github_repos:
        raise ConfigError(["GITHUB_REPOS is empty; set it to owner/name[,owner/name...]"])
    app = build_app(settings, demo=False)
    options = SyncOptions(full=full, wait=wait_, throttle=throttle, backoff=retry_backoff)
    try:
        with sync_progress() as progress:
            done = sync_store(
                github_config(settings), app.store, options=options, progress=progress
            )
    except SourceUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    click.echo(done.summary())
    for line in done.problems():
        click.echo(line, err=True)
    if done.stopped_until is not None:
        ctx.exit(3)
    if done.failed:
        ctx.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user and config errors become one line and exit status 2."""
    # First of all, before any setting is read: whatever fails from here on is logged by
    # our renderers, which never print local variables (a .env's bytes, a password).
    configure_logging("warning", "auto")
    try:
        code = cli.main(args=argv, prog_name="chatbot", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        _show_usage_error(exc)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except (UserInputError, ConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except SupportReportError as exc:  # raised on purpose (a service out of reach): its message
        click.echo(f"error: {exc}", err=True)  # names the fix; a traceback would add nothing
        sys.exit(1)
    except Exception:
        log.exception("command_failed")
        click.echo("error: something went wrong; the log above has the details.", err=True)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


def _show_usage_error(exc: click.UsageError) -> None:
    """At most two lines: what was wrong, and where the help is (no usage dump)."""
    click.echo(f"error: {_one_line(exc.format_message())}", err=True)
    ctx = exc.ctx
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        option = max(ctx.command.get_help_option_names(ctx), key=len)
        click.echo(f"Try '{ctx.command_path} {option}' for help.", err=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())
