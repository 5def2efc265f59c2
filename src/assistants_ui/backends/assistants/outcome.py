"""How an Assistants run ended, as the one `Done` or `Failed` event the user sees.

Completed -> `Done("complete")` with the run's token usage; incomplete ->
`Done("incomplete")` saying which limit (or the content filter) cut it;
cancelled -> `Done("stopped")`; expired and failed -> `Failed` in one sentence,
retryable when waiting may help (rate limits, server errors, expiry).
"""

from __future__ import annotations

from openai.types.beta.threads import Run

from assistants_ui.backends.clients import server_code
from assistants_ui.core import events as ev
from assistants_ui.core.failures import failure
from assistants_ui.i18n import N_

__all__ = ["run_failure", "run_incomplete_detail", "run_outcome"]


def run_failure(run: Run) -> ev.Failed:
    """A failed run in one sentence; rate limits and server errors may be retried."""
    err = run.last_error
    return failure(
        server_code(err.code if err else None),
        during=N_("The assistant's run failed"),
        server="The server, during the assistant's run,",
        said=err.message if err else "",
    )


def run_incomplete_detail(run: Run) -> str:
    reason = run.incomplete_details.reason if run.incomplete_details else None
    if reason == "max_completion_tokens":
        return "The answer reached its length limit (max_completion_tokens)."
    if reason == "max_prompt_tokens":
        return (
            "The conversation is longer than the run's prompt limit (max_prompt_tokens): "
            "the answer stopped early."
        )
    return "The run ended before the answer was complete."


def _usage(run: Run) -> ev.Usage | None:
    if run.usage is None:
        return None
    return ev.Usage(run.usage.prompt_tokens, run.usage.completion_tokens)


def run_outcome(run: Run, *, content_filter: bool = False) -> ev.Done | ev.Failed:
    """The event for a run in a terminal status."""
    usage = _usage(run)
    if run.status == "completed":
        return ev.Done("complete", usage)
    if run.status == "incomplete":
        detail = (
            "The server's content filter cut the answer short."
            if content_filter
            else run_incomplete_detail(run)
        )
        return ev.Done("incomplete", usage, detail)
    if run.status == "cancelled":
        return ev.Done("stopped", usage, "The run was cancelled before it finished.")
    if run.status == "expired":
        return failure("expired")
    return run_failure(run)
