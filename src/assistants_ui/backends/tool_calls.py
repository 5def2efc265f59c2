"""The one tool loop every backend uses: offer the tools, run a round of calls, bound the rounds.

In the spirit of `llm`'s `Response.execute_tool_calls` and its chain limit. A
profile's tools are its Python functions (`tools.functions`) and the tools of
its MCP servers (`tools.mcp`), offered to the model alike as function tools.
`Toolbox.offer()` lists them (connecting MCP servers; one `Notice` per server
that is down, and the answer goes on without it). `ToolLoop.run_round(calls)`
runs one round of the model's calls and yields a `ToolCallDone` per call;
the backend sends the outputs back in its own protocol and asks again, until
the model answers or `max_tool_rounds` is reached (`exhausted`: the backend
then asks once more with tools switched off, or stops with `limit_done`).

Every call is bounded by a timeout (a function runs in a thread of its own, a
hung one is left behind) and its output cut at `MAX_OUTPUT_CHARS` with a note.
Every failure is worded once, as one line that is both sent to the model and
shown on the call, and the answer goes on: what only the loop can see (a tool
that does not exist, the round limit, a cut output) here; what happens inside
a call where it runs (malformed arguments, an exception, a timeout:
`tools.functions`; a server that is down or gone mid-call: `tools.mcp`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistants_ui.core import events as ev
from assistants_ui.core import observe
from assistants_ui.core.backend import BackendError, CancelFlag
from assistants_ui.profiles import Profile
from assistants_ui.tools.functions import (
    FunctionTool,
    ToolLoadError,
    ToolResult,
    load_functions,
    parse_arguments,
    timed_out,
)
from assistants_ui.tools.mcp import McpServer, McpUnavailable, server_for

__all__ = [
    "MAX_OUTPUT_CHARS",
    "Tool",
    "ToolCall",
    "ToolLoop",
    "Toolbox",
    "build_toolbox",
    "function_spec",
]

MAX_OUTPUT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool as the model is offered it, and how to run it."""

    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[str], ToolResult] = field(repr=False)
    origin: str = ""
    # The MCP server that runs it ("" for a Python function).
    server: str = ""


def function_spec(tool: Tool) -> dict[str, Any]:
    """The tool as a Chat Completions / Assistants `function` definition."""
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}


def _cap(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return (
        text[:MAX_OUTPUT_CHARS]
        + f"\n[... cut: {len(text):,} characters, the first {MAX_OUTPUT_CHARS:,} shown]"
    )


def _mcp_runner(server: McpServer, name: str) -> Callable[[str], ToolResult]:
    def run(arguments: str) -> ToolResult:
        raw = parse_arguments(arguments)
        return raw if isinstance(raw, ToolResult) else server.call(name, raw)

    return run


class Toolbox:
    """The tools of one profile: its Python functions and its MCP servers' tools."""

    def __init__(
        self,
        functions: Sequence[FunctionTool] = (),
        servers: Sequence[McpServer] = (),
        *,
        timeout: float = 60.0,
    ) -> None:
        self.functions = list(functions)
        self.servers = list(servers)
        self.timeout = timeout

    def __bool__(self) -> bool:
        return bool(self.functions or self.servers)

    def offer(self) -> tuple[list[Tool], list[ev.Notice]]:
        """Every tool to offer now, and a notice for each MCP server that is down."""
        tools = [
            Tool(f.name, f.description, f.parameters, f.call, f.source) for f in self.functions
        ]
        names = {t.name for t in tools}
        notices: list[ev.Notice] = []
        for server in self.servers:
            try:
                listed = server.tools()
            except McpUnavailable as exc:
                notices.append(
                    ev.Notice(
                        f"The MCP server {server.name!r} is unavailable ({exc}): this answer "
                        "is made without its tools.",
                        "warning",
                    )
                )
                continue
            for t in listed:
                if t.name in names:
                    notices.append(
                        ev.Notice(
                            f"The tool {t.name!r} of the MCP server {server.name!r} is left "
                            "out: another tool of this assistant has that name.",
                            "warning",
                        )
                    )
                    continue
                names.add(t.name)
                tools.append(
                    Tool(
                        t.name,
                        t.description,
                        t.parameters,
                        _mcp_runner(server, t.name),
                        f"MCP server {server.name!r}",
                        server.name,
                    )
                )
        return tools, notices


def build_toolbox(profile: Profile) -> Toolbox:
    """The profile's tools, or `BackendError` naming the function that does not load."""
    try:
        functions = load_functions(profile.functions)
    except ToolLoadError as exc:
        raise BackendError(f"Assistant {profile.id!r}: {exc}.") from exc
    servers = [server_for(s) for s in profile.mcp_servers]
    for server in servers:
        server.start()
    return Toolbox(functions, servers, timeout=profile.tool_timeout)


def _run_bounded(tool: Tool, arguments: str, timeout: float) -> ToolResult:
    """Run the tool in a thread of its own; a call that hangs is left behind."""
    box: list[ToolResult] = []

    def target() -> None:
        try:
            box.append(tool.run(arguments))
        except Exception as exc:  # a tool runner that breaks its never-raise promise
            box.append(ToolResult(f"Error: {tool.name} raised {type(exc).__name__}: {exc}", False))

    worker = threading.Thread(target=target, name=f"tool-{tool.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    return box[0] if box else timed_out(tool.name, timeout, "tool_timeout")


def done_event(call: ToolCall, result: ToolResult) -> ev.ToolCallDone:
    """How a finished call is shown: the output, or the error the model was also told."""
    status: Literal["completed", "failed"] = "completed" if result.ok else "failed"
    return ev.ToolCallDone(
        call.call_id,
        status,
        output=result.output if result.ok else "",
        error="" if result.ok else result.output,
        arguments=call.arguments,
    )


class ToolLoop:
    """The rounds of tool calls of one answer.

    `functions`: the answer's own function tools besides the profile's (the turn's,
    `core.backend.Turn`: the reader's memory tool), offered the same way; one whose
    name a profile's tool already has is left out, with a notice."""

    def __init__(
        self, toolbox: Toolbox, max_rounds: int, functions: Sequence[Callable[..., Any]] = ()
    ) -> None:
        self.toolbox = toolbox
        self.max_rounds = max_rounds
        self.functions = list(functions)
        self.rounds = 0
        self.tools: dict[str, Tool] = {}

    def start(self) -> Iterator[ev.Notice]:
        """List the tools for this answer; yields a notice per MCP server that is down."""
        tools, notices = self.toolbox.offer()
        self.tools = {t.name: t for t in tools}
        yield from notices
        for func in self.functions:
            tool = FunctionTool.from_callable(func)
            if tool.name in self.tools:
                yield ev.Notice(
                    f"The tool {tool.name!r} of this conversation is left out: another tool "
                    "of this assistant has that name.",
                    "warning",
                )
                continue
            self.tools[tool.name] = Tool(
                tool.name, tool.description, tool.parameters, tool.call, tool.source
            )

    @property
    def exhausted(self) -> bool:
        """The rounds are used up: the next request must not call tools."""
        return self.rounds >= self.max_rounds

    def choice(self, setting: str | None) -> str | None:
        """The `tool_choice` for the next request: "none" once the rounds are used up
        (the model must answer), the profile's setting in the first request only (forced
        again after the outputs, it would loop), else nothing."""
        if self.exhausted:
            return "none"
        return setting if self.rounds == 0 and setting else None

    def not_run(self) -> str:
        return f"Not run: the limit of {self.max_rounds} tool rounds was reached."

    NOT_RUN_STOPPED = "Not run: the user stopped the answer."

    def limit_done(self, usage: ev.Usage | None) -> ev.Done:
        return ev.Done(
            "incomplete",
            usage,
            f"The assistant kept calling tools after {self.max_rounds} rounds "
            "(max_tool_rounds), so the answer stops here.",
        )

    def refuse(self, calls: Sequence[ToolCall]) -> Iterator[ev.ToolCallDone]:
        """The calls asked for past the limit: shown as not run."""
        why = self.not_run()
        for call in calls:
            yield ev.ToolCallDone(call.call_id, "incomplete", error=why, arguments=call.arguments)

    def run(self, call: ToolCall) -> ToolResult:
        """One call, never raising: unknown tools and timeouts are worded here."""
        tool = self.tools.get(call.name)
        if tool is None:
            known = ", ".join(self.tools) or "none"
            return ToolResult(
                f"Error: there is no tool named {call.name!r} (available: {known}).", False
            )
        with observe.tool_call(call.name, call.call_id, tool.server) as traced:
            result = _run_bounded(tool, call.arguments, self.toolbox.timeout)
            if not result.ok:
                traced.failed("tool_error")
        return ToolResult(_cap(result.output), result.ok)

    def run_round(
        self,
        calls: Sequence[ToolCall],
        cancelled: CancelFlag,
        *,
        announce: bool = False,
        emit: Callable[[ev.StreamEvent], ev.StreamEvent] = lambda event: event,
    ) -> Generator[ev.StreamEvent, None, list[tuple[ToolCall, ToolResult]]]:
        """Run one round; yields `ToolCallStarted` (when `announce`) and `ToolCallDone`
        per call, each through `emit` (a translator's bookkeeping); returns what ran
        (fewer calls when the user stopped the answer)."""
        self.rounds += 1
        ran: list[tuple[ToolCall, ToolResult]] = []
        for call in calls:
            if cancelled.is_set():
                break
            if announce:
                yield emit(ev.ToolCallStarted(call.call_id, "function", call.name, call.arguments))
            result = self.run(call)
            ran.append((call, result))
            yield emit(done_event(call, result))
        return ran
