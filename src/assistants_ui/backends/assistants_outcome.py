"""How an Assistants run ended, as the one `Done` or `Failed` event the user sees.

Completed -> `Done("complete")` with the run's token usage; incomplete ->
`Done("incomplete")` saying which limit (or the content filter) cut it;
cancelled -> `Done("stopped")`; expired and failed -> `Failed` in one sentence,
retryable when waiting may help (rate limits, server errors, expiry).
"""

from __future__ import annotations

from openai.types.beta.threads import Run

from assistants_ui.core import events as ev

__all__ = ["run_failure", "run_incomplete_detail", "run_outcome"]


def run_failure(run: Run) -> ev.Failed:
    """A failed run in one sentence; rate limits and server errors may be retried."""
    err = run.last_error
    code = err.code if err else ""
    detail = f" ({err.message})" if err and err.message else ""
    if code == "rate_limit_exceeded":
        return ev.Failed(
            f"The assistant's run failed: the rate limit or quota was exceeded{detail}. "
            "Wait a moment and retry.",
            retryable=True,
            code=code,
        )
    if code == "server_error":
        return ev.Failed(
            f"The assistant's run failed on the server{detail}. Retry in a moment.",
            retryable=True,
            code=code,
        )
    if code == "invalid_prompt":
        return ev.Failed(
            f"The assistant's run failed: the server rejected the prompt{detail}.",
            retryable=False,
            code=code,
        )
    return ev.Failed(f"The assistant's run failed{detail or '.'}", retryable=True, code="failed")


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
        return ev.Failed(
            "The assistant's run expired before it finished (a run that waits too long for "
            "the server or for tool outputs expires). Retry.",
            retryable=True,
            code="expired",
        )
    return run_failure(run)
