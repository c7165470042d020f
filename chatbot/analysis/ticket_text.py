"""What a ticket says, without what every ticket says: the text the themes are grouped by.

A ticket's text is its title and the bodies of its description and human comments. Before
grouping, whatever tickets share because of how they are written is taken out, so that a
shared issue form never makes a theme:

- markup rules: HTML comments, headings (``### What happened?``), quoted replies, checkbox
  lines, image links, URLs, HTML tags, and bold field names (``**Browser / Version**:``,
  the value stays);
- frequency: a line (or a title segment, split at `` - `` and ``: ``) that occurs in a large
  share of one repository's tickets is template, not content ("site is not usable").

Error names (``LateInitializationError``) name symptoms and are never dropped as template.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from chatbot.core.models import Ticket

Key = tuple[str, int]
TextsOf = Callable[[Sequence[Key]], Mapping[Key, str]]
"""Reads the body and comment bodies of the tickets of these keys (``ticket_texts``)."""

TEXT_CHARS = 2000
"""Characters of text kept per ticket after cleaning: bounds the work per ticket."""
TEMPLATE_SHARE = 0.2
"""A line in at least this share of a repository's tickets is template."""
TEMPLATE_MIN = 3
"""... and in at least this many tickets (two tickets alike are content, not a form)."""

_NOISE = re.compile(
    r"(?=[<hw])"  # what each starts with: the other places are passed over at once
    r"(?:<!--.*?(?:-->|$)"  # HTML comments
    r"|(?:https?://|www\.)\S+"  # URLs
    r"|</?[a-zA-Z][^>\n]*>)",  # HTML tags
    re.DOTALL | re.IGNORECASE,
)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_BOLD_FIELD = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?\*\*[^*\n]{1,80}\*\*[ \t]*:?", re.MULTILINE)
_DROP_LINE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]|>|[-*+][ \t]+\[[ xX]\]|on [^\n]{4,120} wrote:[ \t]*$)[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)
_TITLE_PREFIX = re.compile(r"^\s*(\[[^\]]{1,40}\]\s*:?\s*)+")
_TITLE_SPLIT = re.compile(r"\s+-\s+|:\s+")
_ERROR_WORDS = ("Error", "Exception", "Fault", "Panic")
_ERROR_NAME = re.compile(r"\b[A-Za-z_]\w*(?:Error|Exception|Fault|Panic)\b")
_NORMAL = re.compile(r"[\W_]+")
_WORDLIKE = re.compile(r"[^\W_]")


def _normal(line: str) -> str:
    """A line as compared across tickets: lower case, words only."""
    return _NORMAL.sub(" ", line.lower()).strip()


def _marked_up_lines(text: str) -> list[str]:
    """``text`` with the markup rules applied, as its non-empty lines."""
    if "](" in text:  # an image goes, a link leaves its text
        text = _LINK.sub(r"\1", _IMAGE.sub(" ", text) if "![" in text else text)
    # each rule runs only where its mark occurs: most lines of most tickets are plain text
    if "<" in text or "http" in text or "www." in text:
        text = _NOISE.sub(" ", text)
    if "#" in text or ">" in text or "[" in text or " wrote:" in text:
        text = _DROP_LINE.sub("", text)
    if "**" in text:
        text = _BOLD_FIELD.sub("", text)
    stripped = (raw.strip(" \t`*_~|") for raw in text.splitlines())
    return [line for line in stripped if _WORDLIKE.search(line)]


def _title_parts(title: str) -> list[str]:
    """The title without a ``[Bug]:`` prefix, in its `` - `` / ``: `` separated segments."""
    return [p for p in _TITLE_SPLIT.split(_TITLE_PREFIX.sub("", title)) if _normal(p)]


def raw_texts(tickets: Iterable[Ticket]) -> dict[Key, str]:
    """Body and human comment bodies of tickets that carry them (no store at hand)."""
    return {
        t.key: "\n\n".join([t.body, *(c.body for c in t.comments if not c.author.is_bot)])
        for t in tickets
    }


Lines = list[tuple[str, str]]
"""Lines of a text, each with its compared form (:func:`_normal`)."""


class _Normals(dict[str, str]):
    """Each line's compared form, worked out once: template lines recur in many tickets."""

    def __missing__(self, line: str) -> str:
        normal = self[line] = _normal(line)
        return normal


def _with_normal(lines: Iterable[str], normals: _Normals) -> Lines:
    return [(line, normals[line]) for line in lines]


def _kept(lines: Lines, template: set[tuple[str, str]], repo: str) -> list[str]:
    """The lines that are not template (a line naming an error always stays)."""
    return [line for line, normal in lines if (repo, normal) not in template or _names_error(line)]


def _names_error(line: str) -> bool:
    # the words looked for, before the regex: few template lines name an error
    return any(word in line for word in _ERROR_WORDS) and bool(_ERROR_NAME.search(line))


def _template(docs: Iterable[tuple[str, Lines]]) -> set[tuple[str, str]]:
    """(repo, normalized line) pairs that occur in a large share of that repo's documents."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter()
    for repo, lines in docs:
        sizes[repo] += 1
        seen[repo].update({normal for _, normal in lines})
    return {
        (repo, line)
        for repo, counts in seen.items()
        for line, n in counts.items()
        if n >= max(TEMPLATE_MIN, TEMPLATE_SHARE * sizes[repo])
    }


def clean_texts(
    tickets: Sequence[Ticket], texts: Mapping[Key, str] | None = None, limit: int = TEXT_CHARS
) -> dict[Key, str]:
    """Each ticket's title and text with markup and template lines removed, cut to ``limit``.

    ``texts`` holds each ticket's body and comments (``TicketStore.ticket_texts``); without
    it the tickets' own bodies and comments are used. The title comes first: it is the
    reporter's own summary, and never cut.
    """
    given = raw_texts(tickets) if texts is None else texts
    # each line with its compared form, computed once; the raw text is cut first (twice the
    # limit: markup and template go) so a huge body costs no more than a long one
    normals = _Normals()
    keys = [t.key for t in tickets]
    titles = [_with_normal(_title_parts(t.title), normals) for t in tickets]
    bodies = [
        _with_normal(_marked_up_lines(given.get(key, "")[: 2 * limit]), normals) for key in keys
    ]
    template_titles = _template(zip((t.repo for t in tickets), titles, strict=True))
    template_lines = _template(zip((t.repo for t in tickets), bodies, strict=True))
    out: dict[Key, str] = {}
    for key, title_lines, body_lines in zip(keys, titles, bodies, strict=True):
        title = " - ".join(_kept(title_lines, template_titles, key[0]))
        body = "\n".join(_kept(body_lines, template_lines, key[0]))
        out[key] = f"{title}\n{body}"[: limit + len(title)]
    return out
