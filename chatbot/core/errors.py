"""Errors of support-report: one base, each subclass named for what went wrong.

Each error keeps the fields it was built from and writes its message in ``__init__``,
so that handlers can show it to a person without formatting of their own::

    SupportReportError
     ├── UserInputError (ValueError)       shown to the person who asked, with the fix
     │    ├── PeriodError                  a period the grammar does not accept
     │    ├── TicketReferenceError         text that is not a ticket reference (123, o/n#123)
     │    ├── TicketNotFound (LookupError) no ticket with that number in the store
     │    ├── QuestionError                a question put wrongly (explain without a ticket)
     │    └── DemoRefused                  the demo would be loaded over real tickets
     ├── ConfigError (ValueError)          bad settings; names every bad variable
     │    ├── StoreUnavailable             the database cannot be reached or opened
     │    ├── ScheduleError*               a schedule file that cannot be used
     │    └── DiscordTokenRefused*         Discord refused DISCORD_TOKEN
     ├── ImportLineError (ValueError)      one line of an import file that could not be read
     ├── MappingError* (ValueError)        a GitHub REST record that cannot be kept
     ├── SourceUnavailable (RuntimeError)  a ticket source (GitHub) could not be reached
     │    ├── RateLimited*                 GitHub's rate limit is used up until its reset
     │    └── RepoUnavailable*             one repository cannot be read
     ├── TransportError* (RuntimeError)    no usable answer from the GitHub API
     ├── DiscordUnavailable* (RuntimeError) Discord could not be reached at start-up
     └── DeliveryFailed (RuntimeError)     a post to a channel failed; permanent or retryable
          └── ResponseUrlError*            Slack's response_url refused the answer

    * defined beside the adapter that raises it (scheduling, sources, delivery)
"""

from __future__ import annotations

from collections.abc import Sequence


class SupportReportError(Exception):
    """Base of every error this package raises on purpose."""


class UserInputError(SupportReportError, ValueError):
    """Input from a person was not understood; the message says how to fix it."""


class PeriodError(UserInputError):
    """A period request the grammar does not accept."""

    def __init__(self, text: str, problem: str, accepted: Sequence[str]) -> None:
        self.text = text
        self.problem = problem
        self.accepted = tuple(accepted)
        super().__init__(f"{problem}. Accepted: {', '.join(self.accepted)}.")


class TicketReferenceError(UserInputError):
    """Text that is not a ticket reference; the message names the accepted forms."""

    def __init__(self, text: str, accepted: Sequence[str]) -> None:
        self.text = text
        self.accepted = tuple(accepted)
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        super().__init__(f"'{shown}' is not a ticket; use {' or '.join(self.accepted)}")


class TicketNotFound(UserInputError, LookupError):
    """No ticket with that reference is in the store."""

    def __init__(self, reference: str, candidates: Sequence[str] = ()) -> None:
        self.reference = reference
        self.candidates = tuple(candidates)
        if self.candidates:
            message = f"{reference} is ambiguous; say one of: {', '.join(self.candidates)}"
        else:
            message = f"No ticket {reference} in the store; run `chatbot sync` or check the number"
        super().__init__(message)


class QuestionError(UserInputError):
    """A question to the bot that is put wrongly; the message names the accepted forms."""

    def __init__(self, text: str, problem: str, accepted: Sequence[str]) -> None:
        self.text = text
        self.problem = problem
        self.accepted = tuple(accepted)
        super().__init__(f"{problem}. Ask: {', '.join(self.accepted)}.")


class ConfigError(SupportReportError, ValueError):
    """Settings that cannot be used; lists every bad variable at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("Bad configuration: " + "; ".join(self.problems))


class DemoRefused(UserInputError):
    """The demo tickets are only loaded into a store without imported or synced ones."""

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__(
            f"{location} holds imported or synced tickets, so the demo is not loaded;"
            " set DATABASE_URL to another database to try the demo"
        )


class StoreUnavailable(ConfigError):
    """The ticket store could not be reached, opened or brought up to date."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(
            [f"the store at {location} cannot be opened: {reason}; check DATABASE_URL"]
        )


class ImportLineError(SupportReportError, ValueError):
    """One line of an import file could not be turned into a ticket."""

    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


class SourceUnavailable(SupportReportError, RuntimeError):
    """A ticket source could not be reached or refused the request."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source} unavailable: {reason}")


class DeliveryFailed(SupportReportError, RuntimeError):
    """A post to a channel failed: ``permanent`` ones are not retried.

    ``retry_after`` (seconds) is the platform's own wait, from a 429's Retry-After.
    """

    def __init__(
        self, target: str, reason: str, *, permanent: bool, retry_after: float | None = None
    ) -> None:
        self.target = target
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(f"posting to {target} failed: {reason}")
