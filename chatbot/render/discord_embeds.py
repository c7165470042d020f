"""The report as one Discord message: embeds, ``allowed_mentions`` that parse nothing.

Pure functions, no I/O. :func:`render_discord_message` returns the JSON body the bot sends
(``POST /channels/{id}/messages`` or an interaction follow-up): a summary embed (figures
with the previous period's trend), the most active tickets, common issues, recommendations,
labels, and the linked tickets (every ticket the report cites, as a link to its own URL).

Whatever the tickets say, the message stays inside Discord's limits (title 256, description
4096, 25 fields, field name 256, field value 1024, footer 2048, 10 embeds, 6000 characters
over all embeds; lengths counted in UTF-16 units as Discord's JavaScript does). Long lists
are cut with "… and N more" rather than failing, and room is kept for the delivery key that
:func:`with_delivery_key` writes into the last footer of a scheduled post.

Untrusted text (titles, labels, themes, recommendations, the period's label) cannot ping,
format or link: ``@`` and ``<`` get a zero-width space after them (no ``@everyone``, ``@here``,
``<@id>``, ``<@&id>``, ``<#id>``, custom emoji or timestamps), markdown characters get a
backslash (no bold, code, spoilers, quotes or masked ``[x](y)`` links), and ``://`` and
invite hosts are broken so bare URLs do not link. The only links are the tickets' own URLs
from the store, and ``allowed_mentions`` is ``{"parse": []}`` on every message. The numbers
are those of the Markdown and JSON renderings (the same :mod:`chatbot.render.summary`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import NotRequired, TypedDict

from chatbot.core.report import Activity, Breakdown, Recommendation, Report, TicketRef
from chatbot.render.summary import (
    NO_ACTIVITY,
    NO_RECOMMENDATIONS,
    NO_THEMES,
    NO_WAITING,
    SummaryFigure,
    comparison_text,
    summary_figures,
    theme_number,
    theme_summary,
    trend_name,
    waiting_heading,
)
from chatbot.render.text import hours, one_line

MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_EMBEDS = 10
MAX_TOTAL = 6000
MAX_CONTENT = 2000
#: Characters kept free in the total for the delivery key of a scheduled post.
KEY_RESERVE = 300
#: Characters kept for each section still to come, so that every section shows at least
#: its title and a line.
SECTION_FLOOR = 160

COLOR = 0x5865F2
TITLE_LIMIT = 90
TEXT_LIMIT = 300
MAIN_THEMES = 8
THEME_LINKS = 5
MAIN_RECOMMENDATIONS = 6
MAIN_LABELS = 10
KEY_PREFIX = "delivery "

# Section budgets (before the floors of the sections after them).
SUMMARY_BUDGET = 1400
ACTIVE_BUDGET = 1400
THEMES_BUDGET = 1500
RECOMMENDATIONS_BUDGET = 1000
LABELS_BUDGET = 500
WAITING_BUDGET = 900


class EmbedField(TypedDict):
    """One field of an embed."""

    name: str
    value: str
    inline: bool


class EmbedFooter(TypedDict):
    """An embed's footer."""

    text: str


class EmbedImage(TypedDict):
    """An embed's image: ``attachment://chart.png`` points at a file sent with the message."""

    url: str


class Embed(TypedDict):
    """A rich embed (see discord.py ``discord/types/embed.py``)."""

    type: str
    title: str
    color: int
    description: NotRequired[str]
    fields: NotRequired[list[EmbedField]]
    footer: NotRequired[EmbedFooter]
    image: NotRequired[EmbedImage]


class AttachmentRef(TypedDict):
    """A file sent with the message: ``id`` is its ``files[id]`` part in the multipart body."""

    id: int
    filename: str


class AllowedMentions(TypedDict):
    """Which mentions in the message may ping: none."""

    parse: list[str]


class DiscordMessage(TypedDict):
    """The JSON body of a message the bot sends."""

    embeds: list[Embed]
    allowed_mentions: AllowedMentions
    content: NotRequired[str]
    attachments: NotRequired[list[AttachmentRef]]


def no_mentions() -> AllowedMentions:
    """``{"parse": []}``: nothing in the message pings anyone."""
    return {"parse": []}


# ---------------------------------------------------------------------------------------
# Lengths, escaping and cutting


def units(text: str) -> int:
    """The length Discord counts: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 units, ending in an ellipsis when cut."""
    if units(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > limit - 1:
            break
        out.append(ch)
        used += width
    return "".join(out) + "…"


_MARKDOWN = re.compile(r"([\\*_~|>`\[\]()#-])")
_AFTER = re.compile(r"([@<])")
_SCHEME = re.compile(r":(?=//)")
_INVITE = re.compile(r"(?i)\b(discord|discordapp)\.(gg|com|io|me|li)\b")


def escape(text: str) -> str:
    """Untrusted text made inert: no mention, no markdown, no link (see the module doc)."""
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _AFTER.sub("\\1\u200b", text)
    text = _SCHEME.sub(":\u200b", text)
    return _INVITE.sub("\\1\u200b.\\2", text)


def safe(text: str, limit: int = TEXT_LIMIT) -> str:
    """Untrusted text on one line, shortened to about ``limit`` characters, then escaped."""
    return escape(one_line(text, limit))


def _url(url: str) -> str | None:
    if not re.match(r"https?://[^\s]+$", url):
        return None
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def ticket_link(ref: TicketRef, multi_repo: bool) -> str:
    """``[#12](url)`` (``[owner/name#12](url)`` across repositories); plain without a URL."""
    label = escape(ref.reference if multi_repo else f"#{ref.number}")
    url = _url(ref.url)
    return f"[{label}]({url})" if url else label


def _linkify(rec: Recommendation, multi_repo: bool) -> str:
    by_number = {str(r.number): r for r in rec.tickets}

    def link(match: re.Match[str]) -> str:
        ref = by_number.get(match.group(1))
        return ticket_link(ref, multi_repo) if ref else match.group(0)

    return re.sub(r"(?<![\w/])\\#(\d+)", link, safe(rec.text, 500))


def fit_lines(heading: str, lines: Sequence[str], limit: int, unlisted: int = 0) -> str:
    """``heading`` and as many whole ``lines`` as fit in ``limit``, then "… and N more".

    ``unlisted`` counts items left out before rendering (a capped list), so N covers them too.
    """
    parts = [heading] if heading else []
    size = units(heading)
    shown = 0
    for i, line in enumerate(lines):
        add = units(line) + (1 if parts else 0)
        left = len(lines) - i - 1 + unlisted
        tail = units(f"\n… and {left} more") if left else 0
        if size + add + tail > limit:
            break
        parts.append(line)
        size += add
        shown += 1
    if shown < len(lines) + unlisted:
        parts.append(f"… and {len(lines) - shown + unlisted} more")
    return cut("\n".join(parts), limit) or "—"


def embed_size(embed: Embed) -> int:
    """What an embed counts against the 6000 total: title, description, fields, footer."""
    size = units(embed["title"]) + units(embed.get("description", ""))
    for item in embed.get("fields", []):
        size += units(item["name"]) + units(item["value"])
    if "footer" in embed:
        size += units(embed["footer"]["text"])
    return size


def message_size(message: DiscordMessage) -> int:
    """The total over every embed of ``message``."""
    return sum(embed_size(e) for e in message["embeds"])


def embed_of(title: str, description: str | None = None) -> Embed:
    embed: Embed = {"type": "rich", "title": cut(title, MAX_TITLE) or "—", "color": COLOR}
    if description:
        embed["description"] = cut(description, MAX_DESCRIPTION)
    return embed


# ---------------------------------------------------------------------------------------
# Sections


def _summary_field(figure: SummaryFigure) -> EmbedField:
    value = figure["value"]
    if figure["previous"] is not None:
        change = f", {figure['change']}" if figure["change"] else ""
        value += f"\n{figure['against']}: {figure['previous']}{change}"
    return {
        "name": cut(figure["name"], MAX_FIELD_NAME),
        "value": cut(value, MAX_FIELD_VALUE),
        "inline": True,
    }


def summary_embed(report: Report, budget: int) -> Embed:
    """The title, what the report covers, and the six summary figures with their trend."""
    period = report.period
    generated = report.generated_at.astimezone(period.zone)
    embed = embed_of(f"Support report: {period.describe()}")
    fields = [
        _summary_field(f)
        for f in summary_figures(report.figures, report.previous, trend_name(report))
    ]
    footer = cut(f"Generated {generated:%Y-%m-%d %H:%M} ({one_line(period.tz, 60)})", 200)
    left = (
        budget
        - units(embed["title"])
        - units(footer)
        - sum(units(f["name"]) + units(f["value"]) for f in fields)
    )
    meta = [f"Period: {safe(period.label, 80)}"]
    if report.repos:
        shown = ", ".join(safe(r, 100) for r in report.repos[:10])
        more = len(report.repos) - 10
        meta.append(f"Repositories: {shown}" + (f" and {more} more" if more > 0 else ""))
    if (comparison := comparison_text(report)) is not None:
        meta.append(comparison)
    if report.analysis_note:
        meta.append("Analysis: " + safe(report.analysis_note, 200))
    embed["description"] = fit_lines("", meta, max(min(left, MAX_DESCRIPTION), 1))
    embed["fields"] = fields[:MAX_FIELDS]
    embed["footer"] = {"text": footer}
    return embed


def ticket_line(ref: TicketRef, multi: bool) -> str:
    return f"• {ticket_link(ref, multi)} {safe(ref.title, TITLE_LIMIT)}"


def _active_line(activity: Activity, multi: bool) -> str:
    return (
        f"{ticket_line(activity.ticket, multi)} — {activity.ticket.state_text}"
        f" · activity {activity.score:.2f} · {safe(activity.why, 120)}"
    )


def active_embed(report: Report, budget: int) -> Embed:
    """The most active tickets, each with its state, activity level and why."""
    multi = len(report.repos) > 1
    shown = len(report.most_active)
    title = f"{shown} most active tickets (of {report.active_total} active in the period)"
    lines = [_active_line(a, multi) for a in report.most_active] or [NO_ACTIVITY]
    limit = min(budget - units(title), MAX_DESCRIPTION)
    return embed_of(title, fit_lines("", lines, max(limit, 1)))


def themes_embed(report: Report, budget: int) -> Embed:
    """Common issues: one field per theme, with its summary and related tickets."""
    multi = len(report.repos) > 1
    title = "Common issues"
    if not report.themes:
        return embed_of(title, NO_THEMES)
    embed = embed_of(title)
    used = units(title)
    fields: list[EmbedField] = []
    shown_themes = report.themes[: min(MAIN_THEMES, MAX_FIELDS - 1)]
    for i, theme in enumerate(shown_themes, 1):
        links = ", ".join(ticket_link(r, multi) for r in theme.tickets[:THEME_LINKS])
        extra = len(theme.tickets) - THEME_LINKS
        if extra > 0:
            links += f" and {extra} more"
        name = cut(f"{theme_number(theme, i)}{safe(theme.title, 100)}", MAX_FIELD_NAME)
        value = fit_lines("", [safe(theme_summary(theme), 250), links], MAX_FIELD_VALUE)
        if used + units(name) + units(value) > budget - 40:
            break
        fields.append({"name": name, "value": value, "inline": False})
        used += units(name) + units(value)
    left = len(report.themes) - len(fields)
    if left:
        embed["description"] = f"… and {left} more"
    embed["fields"] = fields
    return embed


def recommendations_embed(report: Report, budget: int) -> Embed:
    """The recommendations, each citing its tickets by link."""
    multi = len(report.repos) > 1
    title = "Recommendations"
    lines = [f"• {_linkify(r, multi)}" for r in report.recommendations[:MAIN_RECOMMENDATIONS]]
    left = len(report.recommendations) - MAIN_RECOMMENDATIONS
    if left > 0:
        lines.append(f"… and {left} more")
    limit = min(budget - units(title), MAX_DESCRIPTION)
    return embed_of(title, fit_lines("", lines or [NO_RECOMMENDATIONS], max(limit, 1)))


def waiting_embed(report: Report, budget: int) -> Embed:
    """The open new tickets still without a first team reply, oldest first, with the wait."""
    multi = len(report.repos) > 1
    title = waiting_heading(report)
    lines = [f"{ticket_line(w.ticket, multi)} — waiting {hours(w.hours)}" for w in report.waiting]
    unlisted = report.waiting_total - len(report.waiting)
    limit = min(budget - units(title), MAX_DESCRIPTION)
    return embed_of(title, fit_lines("", lines or [NO_WAITING], max(limit, 1), unlisted))


def _breakdown_line(row: Breakdown) -> str:
    return (
        f"• {safe(row.value, 80)}: {row.received} received · {row.resolved} resolved"
        f" · {row.pending} pending"
    )


def labels_embed(report: Report, budget: int) -> Embed:
    """Counts by label (the busiest first, as the report orders them)."""
    title = "By label"
    rows = [b for b in report.breakdown if b.dimension == "label"]
    lines = [_breakdown_line(b) for b in rows[:MAIN_LABELS]]
    if len(rows) > MAIN_LABELS:
        lines.append(f"… and {len(rows) - MAIN_LABELS} more")
    lines = lines or ["No labelled ticket was received or resolved in this period."]
    limit = min(budget - units(title), MAX_DESCRIPTION)
    return embed_of(title, fit_lines("", lines, max(limit, 1)))


def cited_tickets(report: Report) -> list[TicketRef]:
    """Every ticket the report cites, once each, in order of first mention."""
    seen: dict[tuple[str, int], TicketRef] = {}
    for activity in report.most_active:
        seen.setdefault((activity.ticket.repo, activity.ticket.number), activity.ticket)
    for theme in report.themes:
        for ref in theme.tickets:
            seen.setdefault((ref.repo, ref.number), ref)
    for rec in report.recommendations:
        for ref in rec.tickets:
            seen.setdefault((ref.repo, ref.number), ref)
    for waiting in report.waiting:
        seen.setdefault((waiting.ticket.repo, waiting.ticket.number), waiting.ticket)
    return list(seen.values())


def linked_embed(report: Report, budget: int) -> Embed:
    """The linked tickets: every cited ticket with its title, as a link to its own page."""
    multi = len(report.repos) > 1
    refs = cited_tickets(report)
    title = f"Linked tickets ({len(refs)})"
    lines = [ticket_line(r, multi) for r in refs] or ["No ticket is cited in this report."]
    limit = min(budget - units(title), MAX_DESCRIPTION)
    return embed_of(title, fit_lines("", lines, max(limit, 1)))


# ---------------------------------------------------------------------------------------
# The message


def render_discord_message(report: Report, *, image: str | None = None) -> DiscordMessage:
    """The report as one message: seven embeds within every limit, pinging nobody.

    With ``image`` (a file name such as ``chart.png``), the message says it carries that file
    (``attachments``, part ``files[0]``) and the first embed shows it
    (``attachment://chart.png``); the sender attaches the bytes. An image does not count
    toward the embeds' 6000 characters.
    """
    sections = (
        (summary_embed, SUMMARY_BUDGET),
        (active_embed, ACTIVE_BUDGET),
        (themes_embed, THEMES_BUDGET),
        (recommendations_embed, RECOMMENDATIONS_BUDGET),
        (waiting_embed, WAITING_BUDGET),
        (labels_embed, LABELS_BUDGET),
        (linked_embed, MAX_TOTAL),
    )
    remaining = MAX_TOTAL - KEY_RESERVE
    embeds: list[Embed] = []
    for n, (build, wanted) in enumerate(sections):
        floors = SECTION_FLOOR * (len(sections) - n - 1)
        budget = min(wanted, remaining - floors)
        embed = build(report, max(budget, SECTION_FLOOR))
        embeds.append(embed)
        remaining -= embed_size(embed)
    kept = _within_total(embeds[:MAX_EMBEDS])
    message: DiscordMessage = {"embeds": kept, "allowed_mentions": no_mentions()}
    if image is not None:
        kept[0]["image"] = {"url": f"attachment://{image}"}
        message["attachments"] = [{"id": 0, "filename": image}]
    return message


def _within_total(embeds: list[Embed], limit: int = MAX_TOTAL - KEY_RESERVE) -> list[Embed]:
    """Drop embeds from the end until the total fits (a guard; the budgets already fit)."""
    kept = list(embeds)
    while len(kept) > 1 and sum(embed_size(e) for e in kept) > limit:
        kept.pop()
    return kept


def text_message(text: str) -> DiscordMessage:
    """A plain message (help, a problem) of text we composed, within 2000 characters."""
    return {"content": cut(text, MAX_CONTENT), "embeds": [], "allowed_mentions": no_mentions()}


def with_delivery_key(message: DiscordMessage, key: str) -> DiscordMessage:
    """``message`` with ``delivery <key>`` on a line of its last embed's footer.

    The key is how a retried scheduled post finds an earlier attempt in the channel's
    history (:func:`delivery_key_in`); the renderer keeps room for it in the total.
    """
    if not message["embeds"]:
        return message
    embeds = [dict(e) for e in message["embeds"]]
    last: Embed = embeds[-1]  # type: ignore[assignment]
    old = last["footer"]["text"] if "footer" in last else ""
    room = min(MAX_FOOTER, KEY_RESERVE + units(old)) - units(old) - 1
    line = cut(KEY_PREFIX + one_line(key), max(room, 0))
    last["footer"] = {"text": f"{old}\n{line}" if old else line}
    out: DiscordMessage = {**message, "embeds": embeds}  # type: ignore[typeddict-item]
    return out


def delivery_key_in(message: dict[str, object]) -> str | None:
    """The delivery key a message carries in an embed footer, if any (as Discord returns it)."""
    embeds = message.get("embeds")
    if not isinstance(embeds, list):
        return None
    for embed in embeds:
        footer = embed.get("footer") if isinstance(embed, dict) else None
        text = footer.get("text") if isinstance(footer, dict) else None
        if not isinstance(text, str):
            continue
        for line in text.splitlines():
            if line.startswith(KEY_PREFIX):
                return line.removeprefix(KEY_PREFIX)
    return None


def render_discord_json(report: Report) -> str:
    """The message payload as JSON, exactly what the bot would send."""
    return json.dumps(render_discord_message(report), indent=2, ensure_ascii=False) + "\n"
